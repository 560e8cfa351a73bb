import { connect, type Socket } from 'node:net';
import { parseProtocols, parseStatus, ReplyParser, type BirdReply, type DaemonStatus, type ProtocolStatus } from '../inspect/bird-replies.js';

/** BIRD's control socket could not be used (not running, no permission, timeout, closed). */
export class BirdControlError extends Error {
  override readonly name = 'BirdControlError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** BIRD answered a command with an error code (8xxx runtime, 9xxx parse). */
export class BirdCommandError extends Error {
  override readonly name = 'BirdCommandError';
  constructor(
    message: string,
    readonly reply: BirdReply,
  ) {
    super(message);
  }
}

/** Options of a control connection. */
export interface ControlOptions {
  /** Time allowed for connecting and for each reply (default 5000 ms). */
  readonly timeoutMs?: number;
}

/**
 * A connection to BIRD's control socket (what `birdc -s PATH` talks to), without birdc: the
 * protocol is line based, so commands are written as lines and replies read until a final code.
 * One command at a time; `close()` when done.
 */
export class BirdControl {
  private readonly parser = new ReplyParser();
  private waiting: { resolve: (r: BirdReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private readonly queue: BirdReply[] = [];
  private closedError: Error | null = null;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const reply of this.parser.push(chunk)) this.deliver(reply);
    });
    const fail = (err: Error) => {
      this.closedError ??= err;
      if (this.waiting) {
        clearTimeout(this.waiting.timer);
        this.waiting.reject(this.closedError);
        this.waiting = null;
      }
    };
    socket.on('error', (err) => fail(new BirdControlError(`${path}: ${err.message}`, { cause: err })));
    socket.on('close', () => fail(new BirdControlError(`${path}: connection closed by BIRD`)));
  }

  /** Connects and reads BIRD's greeting (`0001 BIRD 1.6.8 ready.`). */
  static async open(path: string, options: ControlOptions = {}): Promise<BirdControl> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(path);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new BirdControlError(`${path}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(new BirdControlError(`cannot connect to BIRD at ${path}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { cause: err }));
      });
    });
    const control = new BirdControl(socket, path, timeoutMs);
    try {
      const hello = await control.next();
      if (hello.code !== 1) throw new BirdControlError(`${path}: unexpected greeting ${hello.code}`);
    } catch (err) {
      control.close();
      throw err;
    }
    return control;
  }

  /** Sends one command (e.g. `show protocols all`) and returns BIRD's reply; error replies throw. */
  async command(text: string): Promise<BirdReply> {
    if (/[\n\r]/.test(text)) throw new TypeError('a BIRD command is one line');
    if (this.closedError) throw this.closedError;
    const reply = this.next();
    this.socket.write(`${text}\n`);
    const r = await reply;
    if (r.isError) throw new BirdCommandError(`BIRD: ${text}: ${r.lines.map((l) => l.text).join(' ').trim()} (${r.code})`, r);
    return r;
  }

  /** Every protocol with details (`show protocols all`). */
  async protocols(): Promise<ProtocolStatus[]> {
    return parseProtocols(await this.command('show protocols all'));
  }

  /** Version, router id and reconfiguration times (`show status`). */
  async status(): Promise<DaemonStatus> {
    return parseStatus(await this.command('show status'));
  }

  /**
   * Reloads the configuration (`configure`, or `configure "FILE"`); resolves with BIRD's message
   * (`Reconfigured`, `Reconfiguration in progress`, ...). A config BIRD rejects throws, and BIRD
   * keeps running the old one.
   */
  async configure(file?: string): Promise<string> {
    if (file !== undefined && /["\n]/.test(file)) throw new TypeError('a config path cannot hold " or a newline');
    const r = await this.command(file === undefined ? 'configure' : `configure "${file}"`);
    return r.lines[r.lines.length - 1]?.text ?? '';
  }

  /** Closes the connection. */
  close(): void {
    this.closedError ??= new BirdControlError(`${this.path}: connection closed`);
    this.socket.destroy();
  }

  private next(): Promise<BirdReply> {
    const ready = this.queue.shift();
    if (ready) return Promise.resolve(ready);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = null;
        reject(new BirdControlError(`${this.path}: no reply within ${this.timeoutMs} ms`));
        this.socket.destroy();
      }, this.timeoutMs);
      this.waiting = { resolve, reject, timer };
    });
  }

  private deliver(reply: BirdReply): void {
    if (!this.waiting) {
      this.queue.push(reply);
      return;
    }
    clearTimeout(this.waiting.timer);
    const { resolve } = this.waiting;
    this.waiting = null;
    resolve(reply);
  }
}

/** Opens a connection, runs `fn` with it and closes it. */
export async function withBirdControl<T>(path: string, fn: (c: BirdControl) => Promise<T>, options: ControlOptions = {}): Promise<T> {
  const control = await BirdControl.open(path, options);
  try {
    return await fn(control);
  } finally {
    control.close();
  }
}
