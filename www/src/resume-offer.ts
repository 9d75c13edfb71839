// The page's offer to go on with an unfinished run kept in this browser (the package keeps each
// epoch's checkpoint until the run ends): after a reload, a crash or a closed tab, the same
// examples (dropped again, or the sample) show "Resume from epoch N"; other examples show why the
// kept run cannot go on with them, and it can be discarded.

import type { CheckpointStatus, FineTuner } from '../../npm/src/index';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface OfferHost {
  tuner(): FineTuner | null;
  busy(): boolean;
  /** Goes on with the kept run as Train runs one. */
  resume(status: CheckpointStatus): void;
  message(kind: 'info' | 'warning' | 'error', text: string): void;
}

export class ResumeOffer {
  private status: CheckpointStatus | null = null;
  private asking = false;
  private askAgain = false;

  constructor(private readonly host: OfferHost) {}

  wire() {
    $('resume-button').addEventListener('click', () => { if (this.status?.usable) this.host.resume(this.status); });
    $('discard-run-button').addEventListener('click', () => void this.discard());
  }

  /** Asks the fine-tuner for its kept run (a cheap look: the examples themselves are compared
   * when it resumes) and shows or hides the offer; hidden while the page is busy. */
  refresh() {
    const tuner = this.host.tuner();
    if (!tuner || this.host.busy()) { this.show(null); return; }
    if (this.asking) { this.askAgain = true; return; }
    this.asking = true;
    tuner.checkpoint()
      .then((status) => { if (tuner === this.host.tuner() && !this.host.busy()) this.show(status); })
      .catch(() => this.show(null))
      .finally(() => {
        this.asking = false;
        if (this.askAgain) { this.askAgain = false; this.refresh(); }
      });
  }

  private async discard() {
    try {
      await this.host.tuner()?.discardCheckpoint();
      this.show(null);
    } catch (err) {
      this.host.message('error', (err as Error).message);
    }
  }

  private show(status: CheckpointStatus | null) {
    this.status = status;
    $('resume-offer').hidden = status === null;
    if (!status) return;
    const when = new Date(status.savedAt).toLocaleString();
    const what = status.summary ? ` (${status.summary.examples} examples, ${status.summary.classes.length} classes)` : '';
    $('resume-text').textContent = status.usable
      ? `An unfinished run is kept in this browser: epoch ${status.epoch} of ${status.epochs} done${what}, ${when}.`
      : `An unfinished run is kept in this browser (epoch ${status.epoch} of ${status.epochs}${what}), but not for these examples: ${status.reason}`;
    const button = $<HTMLButtonElement>('resume-button');
    button.hidden = !status.usable;
    button.textContent = `Resume from epoch ${status.epoch + 1}`;
  }
}
