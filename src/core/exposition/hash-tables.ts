/**
 * 32-bit hashes and the open-addressing tables over typed arrays that the checker keeps its
 * series and families in. Typed arrays keep 100,000 entries out of the garbage collector's
 * way, which a Set or Map of key strings does not, and reuse the hashes the scanner computed
 * while reading (a Map would hash each string again).
 */

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a over a name's characters, as the scanner hashes names while reading them. */
export function hashName(name: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), FNV_PRIME);
  return hash;
}

/** MurmurHash3's finaliser: every input bit affects every output bit. */
export function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Series hashes to the position of the series that first gave them. Each slot's hash and
 * position sit side by side, so a probe costs one cache miss, not two. Equal hashes do not
 * mean equal series: the caller compares the two when a hash comes back.
 */
export class SeriesTable {
  /** Slot i: [2i] the hash, [2i+1] the position + 1 (0 marks an empty slot). */
  private slots: Int32Array;
  private capacity: number;
  private size = 0;

  constructor(expectedSeries: number) {
    let capacity = 1024;
    while (capacity < expectedSeries * 2 && capacity < 1 << 24) capacity *= 2;
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * 2);
  }

  /** Adds the hash; returns the position stored with it earlier, or -1 if it is new. */
  insert(hash: number, position: number): number {
    if ((this.size + 1) * 2 > this.capacity) this.grow();
    const slots = this.slots;
    const mask = this.capacity - 1;
    for (let slot = (hash ^ (hash >>> 15)) & mask; ; slot = (slot + 1) & mask) {
      const stored = slots[2 * slot + 1] as number;
      if (stored === 0) {
        slots[2 * slot] = hash;
        slots[2 * slot + 1] = position + 1;
        this.size++;
        return -1;
      }
      if (slots[2 * slot] === hash) return stored - 1;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Int32Array(this.capacity * 2);
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] !== 0) this.insert(old[i] as number, (old[i + 1] as number) - 1);
    }
  }
}

/**
 * Named things by name, in the order first added, looked up by the name's hashName(). Text
 * with 100,000 unlabelled series has 100,000 families, and a Map hashing each new name string
 * again (the scanner has hashed it already) was most of the time spent on such input.
 */
export class NameIndex<T extends { readonly name: string }> {
  /** In the order first added. */
  readonly list: T[] = [];
  /** Slot i: [2i] the name's hash, [2i+1] its index in `list` + 1 (0 marks an empty slot). */
  private slots = new Int32Array(2048);
  private capacity = 1024;

  get(name: string, hash: number): T | undefined {
    const slots = this.slots;
    const mask = this.capacity - 1;
    for (let slot = mix32(hash) & mask; ; slot = (slot + 1) & mask) {
      const index = slots[2 * slot + 1] as number;
      if (index === 0) return undefined;
      if (slots[2 * slot] === hash) {
        const item = this.list[index - 1]!;
        if (item.name === name) return item;
      }
    }
  }

  /** Adds an item whose name is not in the index yet. */
  add(item: T, hash: number): void {
    if ((this.list.length + 1) * 2 > this.capacity) this.grow();
    this.list.push(item);
    this.place(hash, this.list.length);
  }

  private place(hash: number, indexPlusOne: number): void {
    const slots = this.slots;
    const mask = this.capacity - 1;
    let slot = mix32(hash) & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = indexPlusOne;
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Int32Array(this.capacity * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.place(old[i] as number, old[i + 1] as number);
  }
}
