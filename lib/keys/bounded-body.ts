/**
 * The body of `response` as UTF-8 text; past `limit` bytes it is refused (`what` names the
 * document in the error), and no more of it is read, so a hostile or broken endpoint cannot
 * exhaust memory.
 */
export async function boundedText(
  response: Response,
  limit: number,
  what: string,
): Promise<string> {
  const tooLarge = () => new Error(`${what} too large`);
  if (Number(response.headers.get('content-length')) > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(); // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
