/**
 * A plain-object look-alike whose entries are resolved on demand. Loading a bundled profile used to
 * build a ~40k-key dictionary of symbols (and unpack every struct) although discovery reads a few dozen
 * of them; this Proxy answers point look-ups (`r[n]`, `n in r`, `Object.hasOwn(r, n)`) straight from
 * the decoded arrays, and turns into an ordinary null-prototype object (filled once, in the order a
 * plain object built by inserting `entries()` would enumerate) the first time anything needs the whole
 * key set (Object.keys/values/entries, for…in, JSON.stringify, spread) or changes it.
 *
 * Not structured-cloneable (no Proxy is); nothing posts a ProfileData to a worker today. Node's
 * util.inspect shows a Proxy's target, so console.log() prints `{}` until the record is materialised.
 */
export interface LazySource<V> {
  /** The value of own key `name`, or undefined when there is none. Must agree with entries(). */
  get(name: string): V | undefined;
  /** Every own entry, in insertion order. */
  entries(): Iterable<readonly [string, V]>;
}

export function lazyRecord<V>(source: LazySource<V>): Record<string, V> {
  const target = Object.create(null) as Record<string, V>;
  let pending: LazySource<V> | null = source;

  /** Fill the target once; from then on every trap is the default behaviour on a plain object. */
  const whole = (): Record<string, V> => {
    if (pending) {
      const src = pending;
      pending = null; // before filling: a throwing entries() must not leave a half-lazy record
      for (const [k, v] of src.entries()) target[k] = v;
    }
    return target;
  };
  const descriptor = (value: V): PropertyDescriptor => ({ value, writable: true, enumerable: true, configurable: true });

  return new Proxy(target, {
    get: (t, p, receiver) => (pending && typeof p === 'string' ? pending.get(p) : Reflect.get(t, p, receiver)),
    has: (t, p) => (pending && typeof p === 'string' ? pending.get(p) !== undefined : Reflect.has(t, p)),
    getOwnPropertyDescriptor: (t, p) => {
      if (!pending || typeof p !== 'string') return Reflect.getOwnPropertyDescriptor(t, p);
      const v = pending.get(p);
      return v === undefined ? undefined : descriptor(v);
    },
    ownKeys: () => Reflect.ownKeys(whole()),
    set: (_t, p, v) => Reflect.set(whole(), p, v),
    defineProperty: (_t, p, d) => Reflect.defineProperty(whole(), p, d),
    deleteProperty: (_t, p) => Reflect.deleteProperty(whole(), p),
    preventExtensions: () => Reflect.preventExtensions(whole()),
    setPrototypeOf: (_t, proto) => Reflect.setPrototypeOf(whole(), proto),
  });
}
