/**
 * Speech recognition as the call's turn activities use it: listen on a live channel until the callee has said
 * something (returns the text) or the time is up (undefined).
 *
 * Implementations: {@link VoskRecognizer} (vosk-recognizer.ts; a Vosk websocket server fed by the call's audio tap,
 * audio-tap.ts). Tests use the same class against test/support/fake-vosk-server.ts, a fake Vosk server.
 */
export interface RecognizedSpeech {
  text: string;
  /** When the callee finished speaking (ms since the epoch). */
  at: number;
}

export interface ListenOptions {
  /** Resolve with undefined after this long without a recognised utterance. */
  timeoutMs: number;
  /** Aborting resolves the listen with undefined at once and releases what it holds. */
  signal: AbortSignal;
  /**
   * Called once, as soon as the recogniser hears the callee start an utterance (its first non-empty partial
   * result), well before the final text: the moment to stop a prompt that allows barge-in.
   */
  onSpeech?: (partial: string) => void;
}

export interface SpeechRecognizer {
  /**
   * Never rejects: a recogniser that fails is logged and the listen ends at its timeout, as if nothing was said.
   * Resolves early only with recognised text, or with undefined when `signal` aborts.
   */
  listen(channelId: string, opts: ListenOptions): Promise<RecognizedSpeech | undefined>;
}

/**
 * Speech over a prompt that allows barge-in: resolves with `'speaking'` when the callee starts to talk (stop the
 * prompt then), and `result` with the recognised text (or undefined at the timeout or abort). Race `speaking`
 * against the playback; abort `signal` when the prompt ends without it.
 */
export function listenForBargeIn(
  recognizer: SpeechRecognizer,
  channelId: string,
  opts: Omit<ListenOptions, 'onSpeech'>,
): { speaking: Promise<'speaking'>; result: Promise<RecognizedSpeech | undefined> } {
  let onSpeech!: () => void;
  const speaking = new Promise<'speaking'>((resolve) => (onSpeech = () => resolve('speaking')));
  const result = recognizer.listen(channelId, { ...opts, onSpeech });
  // A final result without a partial before it (a very short word) also means the callee spoke.
  void result.then((r) => r && onSpeech());
  return { speaking, result };
}
