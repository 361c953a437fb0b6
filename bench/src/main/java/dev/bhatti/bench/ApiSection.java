package dev.bhatti.bench;

/**
 * The read-only API calls: health, list and inspect, via the harness's HTTP client and via the CLI.
 * Floor: {@code curl} of {@code /health} (curl's own time_total, without its process start).
 */
final class ApiSection implements Section {
    static final String SECTION = "api";
    static final String CURL_HEALTH = "curl /health (time_total)";
    static final String HEALTH = "GET /health";

    @Override public String title() { return "list, inspect and health; curl /health as the floor"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Api api = ctx.api();
        Samples curl = r.add(SECTION, CURL_HEALTH, null);
        Samples health = r.add(SECTION, HEALTH, CURL_HEALTH);
        Samples list = r.add(SECTION, "GET /sandboxes (list)", CURL_HEALTH);
        Samples inspect = r.add(SECTION, "GET /sandboxes/{id} (inspect)", CURL_HEALTH);
        for (int i = 0; i < 3; i++) {
            curlHealth(api.url());
            api.health();
        }
        for (int i = 0; i < o.nApi; i++) {
            curl.add(curlHealth(api.url()));
            health.add(Timer.time(api::health));
            list.add(Timer.time(() -> api.ok("GET", "/sandboxes", null)));
            inspect.add(Timer.time(() -> api.inspect(ctx.mainId)));
        }
        Samples cliList = r.add(SECTION, "bhatti list --json (CLI)", ExecSection.VERSION);
        Samples cliInspect = r.add(SECTION, "bhatti inspect --json (CLI)", ExecSection.VERSION);
        for (int i = 0; i < o.nCli; i++) {
            cliList.add(ctx.cli().run("list", "--json"));
            cliInspect.add(ctx.cli().run("inspect", ctx.mainName, "--json"));
        }
        r.print(SECTION);
    }

    /** One {@code curl /health}; returns curl's own time_total in ns. */
    static long curlHealth(String url) throws Exception {
        Process p = new ProcessBuilder("curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{time_total}", "--max-time", "10", url + "/health")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0 || !out.startsWith("200 ")) throw new BenchFailure("curl /health: " + out);
        return Math.round(Double.parseDouble(out.substring(4)) * 1e9);
    }
}
