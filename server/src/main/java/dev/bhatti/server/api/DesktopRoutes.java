package dev.bhatti.server.api;

import dev.bhatti.server.desktop.Desktop;
import dev.bhatti.server.desktop.DesktopService;
import dev.bhatti.server.error.DomainException;
import org.eclipse.jetty.http.HttpHeader;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /sandboxes/{id}/desktop/...}: a sandbox's screen and input over the agent channel (no VNC): the
 * screenshot as PNG, its size, and pointer clicks and moves, typed text and key combinations.
 */
record DesktopRoutes(DesktopService desktop) {

    /** Body of POST click and move: a point on the screen, a button (click only). */
    record PointBody(Integer x, Integer y, String button, Boolean doubleClick) {}

    record TypeBody(String text) {}

    record KeyBody(String keys) {}

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/sandboxes/{id}/desktop/screenshot", this::screenshot),
                Route.keyed("GET", "/sandboxes/{id}/desktop/size", c -> Reply.ok(desktop.size(c.user(), c.param("id")))),
                Route.keyed("POST", "/sandboxes/{id}/desktop/click", this::click),
                Route.keyed("POST", "/sandboxes/{id}/desktop/move", this::move),
                Route.keyed("POST", "/sandboxes/{id}/desktop/type", this::type),
                Route.keyed("POST", "/sandboxes/{id}/desktop/key", this::key));
    }

    private Reply screenshot(Call c) {
        byte[] png = desktop.screenshot(c.user(), c.param("id"));
        c.response().setStatus(200);
        c.response().getHeaders().put(HttpHeader.CONTENT_TYPE, "image/png");
        c.response().getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        c.response().write(true, ByteBuffer.wrap(png), c.callback());
        return Reply.STREAMED;
    }

    private Reply click(Call c) throws IOException {
        var b = c.json(PointBody.class);
        boolean twice = Boolean.TRUE.equals(b.doubleClick());
        Desktop.Button button = desktop.click(c.user(), c.param("id"), b.x(), b.y(), b.button(), twice);
        var reply = new LinkedHashMap<String, Object>();
        reply.put("action", twice ? "double_click" : "click");
        reply.put("x", b.x());
        reply.put("y", b.y());
        reply.put("button", button.wire());
        return Reply.ok(reply);
    }

    private Reply move(Call c) throws IOException {
        var b = c.json(PointBody.class);
        if (b.button() != null || b.doubleClick() != null) throw DomainException.invalid("move takes only x and y");
        desktop.move(c.user(), c.param("id"), b.x(), b.y());
        return Reply.ok(Json.fields("action", "move", "x", b.x(), "y", b.y()));
    }

    private Reply type(Call c) throws IOException {
        var b = c.json(TypeBody.class);
        desktop.type(c.user(), c.param("id"), b.text());
        return Reply.ok(Json.fields("action", "type", "characters", b.text().length()));
    }

    private Reply key(Call c) throws IOException {
        var b = c.json(KeyBody.class);
        desktop.key(c.user(), c.param("id"), b.keys());
        return Reply.ok(Json.fields("action", "key", "keys", b.keys().trim()));
    }
}
