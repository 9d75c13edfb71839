// The progress bar's value and the line under it for the engine's progress events: pure
// formatting, so main.ts keeps only what the events change on the page (charts, tables, state).

import type { FineTunerEvent } from '../../npm/src/index';

/** What the page's training settings say about the run under way. */
export interface RunContext {
  /** What the task's examples are called ("images"). */
  noun: string;
  /** The epochs asked for. */
  epochs: number;
  batchSize: number;
  paused: boolean;
}

/** The bar's value (0–1, left as it is when absent) and the line under it; null for events that
 * do not move the bar. */
export function progressLine(event: FineTunerEvent, run: RunContext): { value?: number; text: string } | null {
  const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
  switch (event.type) {
    case 'caching': {
      const left = Math.round((event.total - event.done) / Math.max(event.examplesPerSec, 1e-3));
      return {
        value: event.done / event.total,
        text: `Preparing examples (frozen layers): ${event.done}/${event.total} · ${event.examplesPerSec.toFixed(1)} ${run.noun}/s · about ${left} s left`,
      };
    }
    case 'step': {
      const steps = run.epochs * event.stepsPerEpoch;
      const done = (event.epoch - 1) * event.stepsPerEpoch + event.step;
      const etaS = ((steps - done) * run.batchSize) / Math.max(event.examplesPerSec, 1e-3);
      const eta = etaS >= 90 ? `${Math.round(etaS / 60)} min` : `${Math.round(etaS)} s`;
      return {
        value: done / steps,
        text: `${run.paused ? 'Paused. ' : ''}Epoch ${event.epoch}, step ${event.step}/${event.stepsPerEpoch} · loss ${event.loss.toFixed(4)} · ${event.examplesPerSec.toFixed(1)} examples/s · about ${eta} left (at most; early stopping may end sooner)`,
      };
    }
    case 'epoch':
      return { text: `Epoch ${event.epoch}: train accuracy ${percent(event.trainAccuracy)} (macro-F1 ${event.trainMacroF1.toFixed(3)}), val accuracy ${percent(event.valAccuracy)} (macro-F1 ${event.valMacroF1.toFixed(3)})` };
    case 'linearProbeEpoch':
      return {
        value: event.epoch / event.maxEpochs,
        text: `Fitting the head first (pretrained layers frozen), epoch ${event.epoch} · val accuracy ${percent(event.valAccuracy)} · stops when the validation loss stops improving`,
      };
    case 'mixScored':
      return { value: event.done / event.total, text: `Mixing with the pretrained weights: ${Math.round(event.mix.share * 100)} % fine-tuned, val accuracy ${percent(event.mix.valAccuracy)}` };
    case 'resumed':
      return { text: `Resumed after epoch ${event.epoch} from the run kept in this browser.` };
    case 'trial':
      return { value: (event.trial - 1) / event.trials, text: `Choosing for you: trial ${event.trial} of ${event.trials}, ${event.name}` };
    default:
      return null;
  }
}
