/**
 * A Java client of the bhatti daemon's REST API: {@link dev.bhatti.sdk.Bhatti} is where to start.
 * <p>
 * Sandboxes ({@link dev.bhatti.sdk.Sandboxes}, {@link dev.bhatti.sdk.Sandbox}) run commands
 * ({@link dev.bhatti.sdk.Exec}), hold files ({@link dev.bhatti.sdk.SandboxFiles}) and open terminals
 * ({@link dev.bhatti.sdk.Shell}); snapshots, secrets, images and volumes have their own resources. Data
 * the daemon answers is records; its refusals are the sealed {@link dev.bhatti.sdk.BhattiException}
 * family, one kind per HTTP status, and {@link dev.bhatti.sdk.ConnectionFailed} when no complete answer
 * came. The SDK uses the JDK's {@link java.net.http.HttpClient} and Jackson, nothing of the daemon.
 */
package dev.bhatti.sdk;
