/**
 * One request header as text, the way every Node adapter reads it: Node's `IncomingMessage`
 * already joins most repeated headers with ", " (and keeps only the first `Authorization`), but a
 * framework or an injected request may hand over an array, and then it is joined the same way.
 * A credential sent twice therefore reads as one value that parses as neither, and is refused,
 * on every adapter alike, rather than one adapter taking the first and another the last.
 *
 * @example headerValue(req.headers['payment-signature'])
 */
export function headerValue(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' || value === undefined ? value : value.join(', ')
}
