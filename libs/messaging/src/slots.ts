/**
 * A counting semaphore: acquire() waits (FIFO) while all slots are taken; drained() is a barrier behind every
 * acquire before it. Bounds work done at once in a process (catalog batches in the erp-connector, 1C parse
 * workers in the gateway).
 */
export class Slots {
  private readonly waiting: Array<{ all: boolean; go: () => void }> = [];
  private held = 0;
  constructor(private readonly size: number) {}

  acquire(): Promise<void> {
    return this.wait(false);
  }

  release(): void {
    this.held--;
    this.grant();
  }

  /**
   * Resolves once every acquire() made before this call has been released: it waits its turn for all the slots
   * at once, then gives them back. Later acquires wait behind it (briefly), never before it.
   */
  async drained(): Promise<void> {
    await this.wait(true);
    this.held -= this.size;
    this.grant();
  }

  private wait(all: boolean): Promise<void> {
    return new Promise<void>((go) => {
      this.waiting.push({ all, go });
      this.grant();
    });
  }

  private grant(): void {
    while (this.waiting.length > 0) {
      const need = this.waiting[0].all ? this.size : 1;
      if (this.held + need > this.size) return;
      this.held += need;
      this.waiting.shift()!.go();
    }
  }
}
