/**
 * One ordered log shared by several fakes, so a test can assert the order of calls across them
 * ("finalizer added, then provider.ensure, then the status patch").
 */
export class Journal {
  readonly entries: string[] = [];

  note(entry: string): void {
    this.entries.push(entry);
  }

  /** Returns the entries so far and starts a fresh log. */
  take(): string[] {
    return this.entries.splice(0);
  }
}
