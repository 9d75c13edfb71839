//! One file per fine-tuned model: a safetensors file holding the trained part's parameters (named
//! by module path, f32) and, in its metadata, what is needed to use it again — format version,
//! base model, task, class names, cut, preprocessing. Frozen layers are not stored: they are the
//! pretrained weights the importer already has, so a head + 2 layers text model is ~7 MB and a
//! head-only image model ~20 KB.
//! The tensors go through [`crate::params`].

use std::collections::HashMap;

use burn::module::Module;
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::Unfreeze;
use crate::params::{NamedTensors, load_module};

/// The metadata key and format version of our files.
const KEY: &str = "burn-finetune";
pub const FORMAT: &str = "burn-finetune/1";

/// What a model file says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    pub format: String,
    /// `efficientnet-lite0`, `all-minilm-l6-v2` or `whisper-tiny.en`.
    pub base_model: String,
    /// `image`, `text` or `speech`.
    pub task: String,
    /// Empty for speech (a transcriber has no classes).
    pub classes: Vec<String>,
    pub unfreeze: Unfreeze,
    /// Text: the maximum length in tokens it was trained with.
    pub max_length: Option<usize>,
    /// How inputs are prepared, in words (for people reading the file).
    pub preprocessing: String,
}

/// The parameters of `model` and `info` as safetensors bytes.
pub async fn export_model(model: &impl Module, info: &ModelInfo) -> Result<Vec<u8>, Error> {
    let mut tensors = NamedTensors::default();
    tensors.add_module(model, "");
    let json = serde_json::to_string(info).map_err(|e| Error::Backend(e.to_string()))?;
    tensors.serialize(HashMap::from([(KEY.to_string(), json)])).await
}

/// Reads the metadata of a model file, refusing files that are not ours.
pub fn read_info(bytes: &[u8]) -> Result<ModelInfo, Error> {
    let not_ours = |why: &str| Error::Data(format!("This is not a model exported by this fine-tuner ({why})."));
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| {
        // A header that names us, in a file that does not parse: ours, cut short or altered.
        let header_len = bytes.get(..8).map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()) as usize);
        let header = bytes.get(8..8usize.saturating_add(header_len)).unwrap_or(&[]);
        if header.windows(KEY.len()).any(|w| w == KEY.as_bytes()) {
            Error::Data(format!("the model file is damaged or truncated ({e}): export it again"))
        } else {
            not_ours(&format!("not a readable safetensors file: {e}"))
        }
    })?;
    let json = header.metadata().as_ref().and_then(|m| m.get(KEY)).ok_or_else(|| not_ours("no burn-finetune metadata"))?;
    let info: ModelInfo = serde_json::from_str(json).map_err(|e| not_ours(&format!("unreadable metadata: {e}")))?;
    if info.format != FORMAT {
        return Err(Error::Data(format!("This model file has format '{}'; this version reads '{FORMAT}'.", info.format)));
    }
    if info.task != super::speech::NAME {
        if info.classes.len() < 2 {
            return Err(not_ours("fewer than 2 classes"));
        }
        super::fine_tuner::check_classes(&info.classes).map_err(|why| Error::Data(format!("The model file's class list cannot be used: {why}")))?;
    }
    Ok(info)
}

/// Refuses a file made for another base model, naming what it is.
pub fn check_base_model(info: &ModelInfo, base_model: &str, task: &str) -> Result<(), Error> {
    if info.base_model != base_model {
        return Err(Error::Data(format!(
            "This model was fine-tuned from {} ({} task); this is the {task} task ({base_model}): switch to the {} task to import it.",
            info.base_model, info.task, info.task
        )));
    }
    if info.task != task {
        return Err(Error::Data(format!(
            "This is a {} model of {base_model}; this is the {task} task: switch to the {} task to import it.",
            info.task, info.task
        )));
    }
    Ok(())
}

/// `model` with every parameter replaced by the file's tensor of the same path and shape.
pub fn load_params<M: Module>(model: M, bytes: &[u8]) -> Result<M, Error> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| Error::Data(format!("the model file is damaged: {e}")))?;
    let (model, used) = load_module(model, &file, "", "the model file")?;
    if used != file.len() {
        return Err(Error::Data(format!(
            "the model file holds {} tensors but this model has {used}: it was made for another cut",
            file.len()
        )));
    }
    Ok(model)
}
