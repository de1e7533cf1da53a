import type { IncomingMessage, ServerResponse } from 'node:http';
import type { VigilError } from '../errors.ts';
import type { RequestScope } from '../telemetry/request-scope.ts';

/**
 * Writes a handler's streamed chunks to the client: Server-Sent Events when the client accepts
 * text/event-stream, JSON lines otherwise (chunked transfer). Each chunk is acknowledged to the
 * replica only once the socket has taken it (write() returned true, or 'drain'), so a slow client
 * holds the producer back instead of vigil buffering without bound (bentoml#4624). A client
 * that disconnects runs the registered cancels (onCancel), which stop the handler.
 */
export class ChunkWriter {
  /**
   * What runs when the client leaves early or the stream fails. Plain callbacks, not an
   * AbortSignal: every custom-route request has a writer, and a signal costs per request.
   */
  private readonly cancels: (() => void)[] = [];
  private cancelled = false;
  private readonly sse: boolean;
  private firstChunkAt: number | undefined;
  private chunks = 0;
  started = false;

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly scope: RequestScope,
  ) {
    this.sse = /\btext\/event-stream\b/.test(req.headers.accept ?? '');
    res.on('close', () => {
      if (!res.writableFinished) this.cancel();
    });
  }

  /** Registers what stops the producer; runs it at once if the client has already left. */
  onCancel(cancel: () => void): void {
    if (this.cancelled) cancel();
    else this.cancels.push(cancel);
  }

  write(data: unknown, ack: () => void): void {
    if (this.res.writableEnded || this.res.destroyed) return;
    this.begin();
    this.chunks++;
    this.firstChunkAt ??= performance.now();
    const text = this.sse ? `data: ${JSON.stringify(data)}\n\n` : `${JSON.stringify(data)}\n`;
    if (this.res.write(text)) ack();
    else this.res.once('drain', ack);
  }

  /** The stream ended normally after `chunks` chunks. */
  end(chunks: number): void {
    this.begin();
    if (this.sse) this.res.write('event: end\ndata: {}\n\n');
    this.res.end();
    this.scope.observeStream(this.firstChunkAt, chunks);
  }

  /** The stream failed after it started: the status is already sent, so the error is the last event. */
  fail(err: VigilError): void {
    this.scope.code = err.code;
    // The handler may still be producing (a deadline fired here first): stop it.
    this.cancel();
    if (!this.res.writableEnded && !this.res.destroyed) {
      const body = JSON.stringify({ error: err.message, code: err.code });
      this.res.end(this.sse ? `event: error\ndata: ${body}\n\n` : `${body}\n`);
    }
    this.scope.observeStream(this.firstChunkAt, this.chunks);
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    for (const c of this.cancels.splice(0)) c();
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, {
      'content-type': this.sse ? 'text/event-stream' : 'application/x-ndjson',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
  }
}
