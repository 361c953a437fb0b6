package dev.bhatti.server.api;

import java.io.IOException;

/** What a route does with a request. */
@FunctionalInterface
public interface Endpoint {
    Reply handle(Call call) throws IOException;
}
