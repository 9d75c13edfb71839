// A minimal safetensors reader (F32 tensors only): 8-byte header length, JSON header, raw data.

export type Weights = Map<string, { data: Float32Array; shape: number[] }>;

export function readSafetensors(buffer: ArrayBuffer): Weights {
  const headerLength = Number(new DataView(buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, headerLength))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const base = 8 + headerLength;
  const out: Weights = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__' || t.dtype !== 'F32') continue;
    const [from, to] = t.data_offsets;
    out.set(name, { data: new Float32Array(buffer.slice(base + from, base + to)), shape: t.shape });
  }
  return out;
}
