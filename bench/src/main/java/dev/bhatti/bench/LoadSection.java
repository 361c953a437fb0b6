package dev.bhatti.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** API latency and throughput under many concurrent clients (rate limits are off in the bench daemon). */
final class LoadSection implements Section {
    static final String SECTION = "load";

    @Override public String title() { return "API under concurrent clients"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        if (o.loadSeconds <= 0) return;
        Results r = ctx.results();
        String health = "load /health, " + o.loadClients + " clients";
        for (String path : List.of("/health", "/sandboxes")) {
            String label = "load " + path + ", " + o.loadClients + " clients";
            Samples lat = r.add(SECTION, label, path.equals("/health") ? ApiSection.HEALTH : health);
            var errors = new AtomicInteger();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.loadSeconds);
            var threads = new ArrayList<Thread>();
            long t0 = System.nanoTime();
            for (int c = 0; c < o.loadClients; c++) {
                threads.add(Thread.ofVirtual().start(() -> {
                    while (System.nanoTime() < end) {
                        long a = System.nanoTime();
                        try {
                            if (ctx.api().request("GET", path, null).status() != 200) errors.incrementAndGet();
                        } catch (Exception e) {
                            errors.incrementAndGet();
                        }
                        lat.add(System.nanoTime() - a);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            double seconds = (System.nanoTime() - t0) / 1e9;
            r.note(String.format(Locale.ROOT, "%s: %.0f requests/s, %d errors", label, lat.n() / seconds, errors.get()));
            if (errors.get() > 0) throw new BenchFailure(errors.get() + " failed requests to " + path + " under load");
        }
        r.print(SECTION);
    }
}
