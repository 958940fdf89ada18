/**
 * Web MIDI for the Play tab. Access is asked for only when the player clicks "Connect MIDI" (that is when
 * the browser shows its permission prompt); then the notes and sustain pedal of every input play, on any
 * channel, and the outputs are offered for the music instead of the built-in synth. A device plugged in
 * later is picked up.
 */

export type MidiEvent =
  | { type: "on"; pitch: number; velocity: number }
  | { type: "off"; pitch: number }
  | { type: "sustain"; down: boolean };

/** What one MIDI message means to the Play tab (note on, note off, the sustain pedal: CC 64), or undefined. */
export function parseMidi(data: ArrayLike<number>): MidiEvent | undefined {
  if (data.length < 3) return undefined;
  const status = data[0] & 0xf0;
  if (status === 0x90 && data[2] > 0) return { type: "on", pitch: data[1], velocity: data[2] };
  if (status === 0x80 || status === 0x90) return { type: "off", pitch: data[1] };
  if (status === 0xb0 && data[1] === 64) return { type: "sustain", down: data[2] >= 64 };
  return undefined;
}

export class MidiPorts {
  private access: MIDIAccess | undefined;

  /** `onEvent` gets each message's meaning and its time (performance.now() milliseconds). */
  constructor(
    private readonly onEvent: (e: MidiEvent, timeStamp: number) => void,
    private readonly onChange: () => void,
  ) {}

  get connected(): boolean {
    return this.access !== undefined;
  }

  /** Asks the browser for MIDI access (its permission prompt); throws with the reason when refused. */
  async connect(): Promise<void> {
    const nav = navigator as Navigator & { requestMIDIAccess?: Navigator["requestMIDIAccess"] };
    if (typeof nav.requestMIDIAccess !== "function") {
      throw new Error("this browser has no Web MIDI (Chrome, Edge and Opera have it)");
    }
    try {
      this.access = await nav.requestMIDIAccess({ sysex: false });
    } catch (e) {
      throw new Error(`the browser refused MIDI access (${(e as Error).message || (e as Error).name})`);
    }
    this.access.onstatechange = () => {
      this.listen();
      this.onChange();
    };
    this.listen();
    this.onChange();
  }

  private listen(): void {
    this.access?.inputs.forEach((input) => {
      input.onmidimessage = (e: MIDIMessageEvent) => {
        const event = e.data ? parseMidi(e.data) : undefined;
        if (event) this.onEvent(event, e.timeStamp);
      };
    });
  }

  inputNames(): string[] {
    const names: string[] = [];
    this.access?.inputs.forEach((i) => {
      if (i.state !== "disconnected") names.push(i.name || i.id);
    });
    return names;
  }

  outputs(): MIDIOutput[] {
    const out: MIDIOutput[] = [];
    this.access?.outputs.forEach((o) => {
      if (o.state !== "disconnected") out.push(o);
    });
    return out;
  }

  output(id: string): MIDIOutput | undefined {
    return this.outputs().find((o) => o.id === id);
  }
}
