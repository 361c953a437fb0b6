package dev.bhatti.server.publish;

import java.util.concurrent.CompletableFuture;

/** Certificates for published host names, when the proxy gets one per name (from an ACME CA). */
public interface HostCertificates {
    /**
     * Gets a certificate for {@code host} unless it has a good one; completes when it can be served.
     * Null when there are no certificates per name.
     */
    CompletableFuture<Void> ensure(String host);

    /** Some names may no longer be published (unpublished, sandbox destroyed): their certificates go, in the background. */
    default void released() { }

    /** No certificates per name: plain HTTP, or one certificate for every name. */
    HostCertificates NONE = host -> null;
}
