package dev.bhatti.bench;

/** Something did not work (an HTTP error, a non-zero exit code): the run fails functionally. Slowness never throws this. */
public final class BenchFailure extends RuntimeException {
    public BenchFailure(String message) { super(message); }
}
