package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.forward.Forwards;
import dev.bhatti.server.sandbox.SandboxService;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/** {@code /sandboxes/{id}/forward}: guest ports on the host's loopback, relayed over the agent channel. */
record ForwardRoutes(SandboxService sandboxes, Forwards forwards) {

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/sandboxes/{id}/forward", c -> Reply.ok(forwards.list(sandboxId(c)).stream().map(ForwardRoutes::view).toList())),
                Route.keyed("POST", "/sandboxes/{id}/forward", this::open),
                Route.keyed("DELETE", "/sandboxes/{id}/forward", c -> Reply.ok(Map.of("closed", forwards.close(sandboxId(c), 0)))),
                Route.keyed("DELETE", "/sandboxes/{id}/forward/{port}", this::close));
    }

    private String sandboxId(Call c) { return sandboxes.get(c.user(), c.param("id")).id(); }

    private Reply open(Call c) throws IOException {
        String sandboxId = sandboxId(c);
        var body = c.json(ForwardBody.class);
        if (body.guestPort() == null) throw DomainException.invalid("guest_port is required");
        sandboxes.awake(c.user(), c.param("id"));
        var f = forwards.open(sandboxId, body.guestPort(), body.hostPort() == null ? 0 : body.hostPort());
        return Reply.created(view(f));
    }

    private Reply close(Call c) {
        String sandboxId = sandboxId(c);
        int port = c.intParam("port", "host port");
        int closed = forwards.close(sandboxId, port);
        if (closed == 0) throw DomainException.notFound("no forward on host port " + port);
        return Reply.ok(Map.of("closed", closed));
    }

    private static Map<String, Object> view(Forwards.Forward f) {
        return Map.of("guest_port", f.guestPort(), "host_port", f.hostPort(), "host_addr", "127.0.0.1:" + f.hostPort());
    }
}
