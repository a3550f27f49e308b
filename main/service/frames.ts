/**
 * The contract framed as messages, for any transport that carries JSON (the bridge's WebSocket, a
 * utility process's MessagePort): a ClientFrame `{id, method, args}` in, `{id, response}` out, and
 * a frame that cannot be read at all answered `{id: null, response: invalid-request}`. The answer
 * never echoes the frame and is one bounded line.
 */
import { ClientFrame, type ServerFrame } from '../../common/contract.js';
import type { ContractService } from './types.js';

/** One line, bounded: a message built from a client's input never carries its line breaks or its bulk. */
export const oneLine = (text: string): string => {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 200 ? `${t.slice(0, 199)}…` : t;
};

export const malformedFrame = (message: string): ServerFrame => ({ id: null, response: { ok: false, error: { code: 'invalid-request', message: oneLine(message) } } });

/** Answer one frame already parsed from JSON (anything at all). Never throws. */
export async function answerFrame(service: Pick<ContractService, 'handle'>, raw: unknown): Promise<ServerFrame> {
  const frame = ClientFrame.safeParse(raw);
  if (!frame.success) {
    const issue = frame.error.issues[0];
    return malformedFrame(`frame is not {id, method, args}: ${issue ? `${issue.path.join('.') || 'frame'}: ${issue.message}` : 'invalid'}`);
  }
  const { id, method, args } = frame.data;
  return { id, response: await service.handle(method, args) };
}

/** Answer one frame of JSON text. Never throws. */
export async function answerFrameText(service: Pick<ContractService, 'handle'>, text: string): Promise<ServerFrame> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return malformedFrame(`frame of ${text.length} characters is not JSON`); // never echo the frame back
  }
  return answerFrame(service, raw);
}
