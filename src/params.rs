//! A module's parameters by module path, to and from safetensors: what model files
//! (`task::model_file`) and training checkpoints (`train::checkpoint`) are made of.
//!
//! Parameters are read with one asynchronous transaction (a synchronous read panics in wasm on
//! WebGPU) and written back through a module mapper that checks each tensor's shape and values.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData, Transaction};
use safetensors::{Dtype, SafeTensors};

use crate::error::Error;

/// Tensors to write, flattened, each with its name and shape.
#[derive(Default)]
pub struct NamedTensors {
    names: Vec<String>,
    shapes: Vec<Vec<usize>>,
    tensors: Vec<Tensor<1>>,
}

impl NamedTensors {
    /// Adds every float parameter of `module`, named `prefix` + its module path.
    pub fn add_module(&mut self, module: &impl Module, prefix: &str) {
        let mut visitor = Collect { prefix, path: Vec::new(), into: self };
        module.visit(&mut visitor);
    }

    /// Adds one tensor of `shape`, flattened.
    pub fn add(&mut self, name: String, tensor: Tensor<1>, shape: Vec<usize>) {
        self.names.push(name);
        self.tensors.push(tensor);
        self.shapes.push(shape);
    }

    /// The tensors (f32) and `metadata` as safetensors bytes, read in one round trip.
    pub async fn serialize(self, metadata: HashMap<String, String>) -> Result<Vec<u8>, Error> {
        let mut transaction = Transaction::default();
        for t in &self.tensors {
            transaction = transaction.register(t.clone());
        }
        let data = transaction.execute_async().await.map_err(|e| Error::Backend(format!("{e:?}")))?;
        let bytes: Vec<Vec<u8>> = data
            .into_iter()
            .map(|d| d.try_to_vec::<f32>().map(|v| v.iter().flat_map(|x| x.to_le_bytes()).collect()))
            .collect::<Result<_, _>>()
            .map_err(|e| Error::Backend(format!("{e:?}")))?;
        let views = self
            .names
            .iter()
            .zip(&self.shapes)
            .zip(&bytes)
            .map(|((name, shape), b)| safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), b).map(|v| (name.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Backend(e.to_string()))?;
        safetensors::serialize(views, Some(metadata)).map_err(|e| Error::Backend(e.to_string()))
    }
}

struct Collect<'a> {
    prefix: &'a str,
    path: Vec<String>,
    into: &'a mut NamedTensors,
}

impl ModuleVisitor for Collect<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        // Without autodiff: one transaction reads tensors of one kind (moments have none).
        let tensor = param.val().inner();
        let shape = tensor.dims().to_vec();
        let flat = tensor.reshape([shape.iter().product::<usize>()]);
        self.into.add(format!("{}{}", self.prefix, self.path.join(".")), flat, shape);
    }
}

/// One float parameter of a module: its module path, id, shape and device.
pub struct ParamInfo {
    pub path: String,
    pub id: ParamId,
    pub shape: Vec<usize>,
    pub device: Device,
}

/// Every float parameter of `module`, in visiting order.
pub fn float_params(module: &impl Module) -> Vec<ParamInfo> {
    struct Params {
        path: Vec<String>,
        found: Vec<ParamInfo>,
    }
    impl ModuleVisitor for Params {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            self.found.push(ParamInfo { path: self.path.join("."), id: param.id, shape: t.dims().to_vec(), device: t.device() });
        }
    }
    let mut visitor = Params { path: Vec::new(), found: Vec::new() };
    module.visit(&mut visitor);
    visitor.found
}

/// The f32 values of `file`'s tensor `name` when it has `shape`; `Err` names what differs
/// (`what`: "the model file", "the checkpoint").
pub fn read_f32(file: &SafeTensors<'_>, name: &str, shape: &[usize], what: &str) -> Result<Vec<f32>, Error> {
    let view = file.tensor(name).map_err(|_| Error::Data(format!("{what} has no '{name}': it was made for another cut")))?;
    if view.dtype() != Dtype::F32 || view.shape() != shape {
        return Err(Error::Data(format!(
            "{what}'s '{name}' is {:?} {:?}, this model needs F32 {shape:?}: it was made for another set-up",
            view.dtype(),
            view.shape()
        )));
    }
    let values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::Data(format!(
            "{what}'s '{name}' holds NaN or infinite values: it cannot predict (export it again from a run that did not diverge)"
        )));
    }
    Ok(values)
}

/// `model` with every parameter replaced by `file`'s tensor named `prefix` + its path, and the
/// number of tensors used; the first problem is returned.
pub fn load_module<M: Module>(model: M, file: &SafeTensors<'_>, prefix: &str, what: &str) -> Result<(M, usize), Error> {
    let mut load = Load { file, prefix, what, path: Vec::new(), error: None, used: 0 };
    let model = model.map(&mut load);
    match load.error {
        Some(e) => Err(e),
        None => Ok((model, load.used)),
    }
}

/// Replaces parameters by path; the first problem is kept and the rest left untouched.
struct Load<'a> {
    file: &'a SafeTensors<'a>,
    prefix: &'a str,
    what: &'a str,
    path: Vec<String>,
    error: Option<Error>,
    used: usize,
}

impl ModuleMapper for Load<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if self.error.is_some() {
            return param;
        }
        let name = format!("{}{}", self.prefix, self.path.join("."));
        let dims = param.val().dims();
        match read_f32(self.file, &name, &dims, self.what) {
            Ok(values) => {
                self.used += 1;
                param.map(|t| {
                    let loaded = Tensor::from_data(TensorData::new(values, dims), &t.device());
                    if t.is_require_grad() { loaded.require_grad() } else { loaded }
                })
            }
            Err(e) => {
                self.error = Some(e);
                param
            }
        }
    }
}
