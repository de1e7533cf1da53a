import { createServer, type Server } from 'node:http';

export interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

/** A real HTTP receiver for vigil's webhooks that can be started late (a receiver that is down at first). */
export class WebhookReceiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  /** Status to answer with; 200 acknowledges. */
  answer = 200;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString(), status: this.answer });
        res.writeHead(this.answer).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
  }

  accepted(): Delivery[] {
    return this.deliveries.filter((d) => d.status >= 200 && d.status < 300);
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
