// Pausing the worker's long jobs: the engine awaits `between()` after every training step (and the
// preparation loops after every batch); while paused that promise stays pending.

export class PauseGate {
  private held: { promise: Promise<void>; open: () => void } | null = null;

  get paused(): boolean {
    return this.held !== null;
  }

  pause() {
    if (this.held) return;
    let open = () => {};
    const promise = new Promise<void>((resolve) => { open = resolve; });
    this.held = { promise, open };
  }

  resume() {
    this.held?.open();
    this.held = null;
  }

  /** Resolves on the next macrotask (messages such as cancel get handled), or on resume. */
  between = (): Promise<void> => this.held?.promise ?? new Promise((resolve) => setTimeout(resolve, 0));
}
