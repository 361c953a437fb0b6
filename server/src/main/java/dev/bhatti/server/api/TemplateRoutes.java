package dev.bhatti.server.api;

import dev.bhatti.server.error.DomainException;
import dev.bhatti.server.events.Events;
import dev.bhatti.server.sandbox.SandboxService;
import dev.bhatti.server.sandbox.Templates;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /templates}: saved create requests ({@code POST /sandboxes} with {@code template} starts from one). */
record TemplateRoutes(Templates templates, Events events) {

    List<Route> routes() {
        return List.of(
                Route.keyed("GET", "/templates", c -> Reply.ok(templates.list(c.user()).stream().map(TemplateRoutes::view).toList())),
                Route.keyed("POST", "/templates", this::create),
                Route.keyed("GET", "/templates/{name}", c -> Reply.ok(view(templates.get(c.user(), c.param("name"))))),
                Route.keyed("DELETE", "/templates/{name}", this::delete));
    }

    /** The body is a create body whose {@code name} names the template. */
    private Reply create(Call c) throws IOException {
        ObjectNode body = c.json(ObjectNode.class);
        var name = body.remove("name");
        if (name == null || !name.isString()) throw DomainException.invalid("name (a string) is required");
        SandboxService.CreateRequest spec;
        try {
            spec = Json.MAPPER.treeToValue(body, SandboxService.CreateRequest.class);
        } catch (JacksonException e) {
            throw DomainException.invalid(Json.problem(e));
        }
        var t = templates.create(c.user(), name.asString(), spec);
        events.record("template.create", c.user().name(), t.name(), "");
        return Reply.created(view(t));
    }

    private Reply delete(Call c) {
        templates.delete(c.user(), c.param("name"));
        events.record("template.delete", c.user().name(), c.param("name"), "");
        return Reply.ok(Map.of("status", "deleted"));
    }

    private static JsonNode withoutNulls(JsonNode n) {
        if (n instanceof ObjectNode o) {
            var names = new java.util.ArrayList<String>(o.propertyNames());
            for (String f : names) {
                if (o.get(f).isNull()) o.remove(f);
                else withoutNulls(o.get(f));
            }
        } else if (n.isArray()) {
            for (JsonNode e : n) withoutNulls(e);
        }
        return n;
    }

    /** A template: its name, when it was saved, and its spec (the create body's fields it sets, nothing null). */
    private static Map<String, Object> view(Templates.Template t) {
        var v = new LinkedHashMap<String, Object>();
        v.put("name", t.name());
        v.put("created_at", t.createdAt().toString());
        v.put("spec", withoutNulls(Json.MAPPER.valueToTree(t.spec())));
        return v;
    }
}
