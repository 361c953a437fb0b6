package dev.bhatti.server.api;

/** What a route answers: a status and a JSON body, or {@link #STREAMED} when it wrote the response itself. */
public record Reply(int status, Object body, boolean existing) {
    /** The route wrote the response itself (streaming) and completed the callback. */
    public static final Reply STREAMED = new Reply(0, null, false);

    public static Reply ok(Object body) { return new Reply(200, body, false); }

    static Reply created(Object body) { return new Reply(201, body, false); }

    static Reply noContent() { return new Reply(204, null, false); }

    /** 200 with the existing resource (an idempotent create found it), else 201. */
    static Reply createdOrExisting(Object body, boolean existing) { return new Reply(existing ? 200 : 201, body, existing); }
}
