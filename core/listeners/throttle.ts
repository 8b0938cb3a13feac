// At most one render per interval, and always a last one after the final change: a live trace can
// fire 10k events/s, the view needs no more than 10 frames/s.

export interface Throttle {
  /** Asks for a run; runs now if the interval has passed, else once at its end. */
  request(): void;
  /** Runs a pending request now (e.g. when the view becomes visible). */
  flush(): void;
  dispose(): void;
}

export function createThrottle(run: () => void, intervalMs: number, now: () => number = Date.now): Throttle {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending = false;
  const fire = (): void => {
    timer = undefined;
    pending = false;
    last = now();
    run();
  };
  return {
    request() {
      pending = true;
      if (timer) return;
      const wait = last + intervalMs - now();
      if (wait <= 0) fire();
      else timer = setTimeout(fire, wait);
    },
    flush() {
      if (!pending) return;
      if (timer) clearTimeout(timer);
      fire();
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      pending = false;
    },
  };
}
