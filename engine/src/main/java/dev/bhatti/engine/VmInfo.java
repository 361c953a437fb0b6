package dev.bhatti.engine;

/** What the engine knows about one VM. {@code accelerator} is "kvm" or "tcg". */
public record VmInfo(String id, VmState state, String engine, String accelerator, long pid, String detail) {}
