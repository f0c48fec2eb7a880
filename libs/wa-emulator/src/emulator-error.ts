/** A control-API request the emulator cannot satisfy; `status` is the HTTP status to answer. */
export class EmulatorError extends Error {
  override readonly name = 'EmulatorError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
