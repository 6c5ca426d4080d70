/**
 * A .winmd file that cannot be read: truncated, corrupted, or using a form this reader does not
 * support. `where` is the structure being read (a PE header, a stream such as '#Blob', or a table
 * such as 'TypeDef'); `offset` is the byte offset in the file where reading failed.
 *
 * @example
 * try { Metadata.load(dir); } catch (e) { if (e instanceof WinmdError) console.error(e.file, e.where, e.offset); }
 */
export class WinmdError extends Error {
  override readonly name = 'WinmdError';
  readonly file: string;
  readonly where: string;
  readonly offset: number;

  constructor(file: string, where: string, offset: number, detail: string) {
    super(`${file}: ${where} at offset 0x${offset.toString(16)} (${offset}): ${detail}`);
    this.file = file;
    this.where = where;
    this.offset = offset;
  }
}
