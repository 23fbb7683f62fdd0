// Streams as async iterables that end on return(), the
// shape of the official SDK's AsyncStream: a pump pushes values into a
// queue; next() takes from it or waits; return() stops the pump at once,
// even while next() is waiting, and settles every waiting next() as done.

export interface AsyncStream<T> extends AsyncIterableIterator<T, undefined> {
  next(): Promise<IteratorResult<T, undefined>>;
  return(): Promise<IteratorResult<T, undefined>>;
}

/**
 * @param pump runs until `signal` aborts, calling `push` for each value; a
 *   throw ends the stream with that error for the next reader.
 */
export function createAsyncStream<T>(pump: (push: (value: T) => void, signal: AbortSignal) => Promise<void>): AsyncStream<T> {
  const controller = new AbortController();
  const queue: T[] = [];
  const waiting: { resolve: (r: IteratorResult<T, undefined>) => void; reject: (e: unknown) => void }[] = [];
  let done = false;
  let failure: { error: unknown } | undefined;

  const finish = () => {
    done = true;
    controller.abort();
    for (const w of waiting.splice(0)) w.resolve({ done: true, value: undefined });
  };

  void pump((value) => {
    if (done) return;
    const w = waiting.shift();
    if (w !== undefined) w.resolve({ done: false, value });
    else queue.push(value);
  }, controller.signal).then(
    () => finish(),
    (error: unknown) => {
      if (done) return;
      failure = { error };
      done = true;
      controller.abort();
      for (const w of waiting.splice(0)) w.reject(error);
    },
  );

  const stream: AsyncStream<T> = {
    next() {
      const value = queue.shift();
      if (value !== undefined) return Promise.resolve({ done: false, value });
      if (failure !== undefined) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      if (done) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return() {
      queue.length = 0;
      finish();
      return Promise.resolve({ done: true, value: undefined });
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
  };
  return stream;
}
