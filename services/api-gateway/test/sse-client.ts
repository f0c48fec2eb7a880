export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export interface SseConnection {
  status: number;
  frames: SseFrame[];
  /** Resolves once the server wrote its first bytes (the subscription is in place). */
  opened: Promise<void>;
  /** Resolves when the server ends the stream (or close() aborts it). */
  ended: Promise<void>;
  close(): void;
}

/** A minimal EventSource over fetch that records every frame it reads. */
export async function openSse(
  url: string,
  headers: Record<string, string>,
): Promise<SseConnection> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const frames: SseFrame[] = [];
  let markOpened: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (markOpened = resolve));
  let markEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  if (response.body !== null && response.status === 200) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          markOpened();
          buffer += decoder.decode(value, { stream: true });
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const frame: SseFrame = { event: 'message', data: '' };
            let isEvent = false;
            for (const line of block.split('\n')) {
              const [field, ...rest] = line.split(': ');
              const value = rest.join(': ');
              if (field === 'id') frame.id = value;
              if (field === 'event') frame.event = value;
              if (field === 'data') {
                frame.data = value;
                isEvent = true;
              }
            }
            if (isEvent) frames.push(frame);
          }
        }
      } catch {
        // aborted by close()
      }
      markEnded();
    })();
  } else {
    markOpened();
    markEnded();
  }
  return { status: response.status, frames, opened, ended, close: () => controller.abort() };
}
