package dev.bhatti.bench;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.List;

/** Create to the first successful exec, the create call alone, and destroy. Floors: the bare QEMU boot. */
final class CreateSection implements Section {
    static final String SECTION = "create and destroy";
    static final String FIRST_OF_KIND = "create to first exec true, first of its kind (boots, leaves the template)";
    static final String BOOT_TO_READY = "guest: kernel boot to agent ready (guest clock)";
    static final String JVM_TO_READY = "guest: JVM start to agent ready (guest clock)";

    @Override public String title() { return "create to first exec, destroy; bare QEMU boots interleaved"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Api api = ctx.api();
        boolean bare = FloorSection.available(o);
        if (bare) {                    // register the floors first: they head the report
            r.add(FloorSection.SECTION, FloorSection.BOOT, null);
            r.add(FloorSection.SECTION, FloorSection.BOOT_EXEC, null);
        }
        // The first create of its kind boots (with a neutral identity) and leaves the booted template the
        // later ones restore; it is reported on its own row, the rest is what a user sees from then on.
        Samples firstOfKind = r.add(SECTION, FIRST_OF_KIND, FloorSection.BOOT_EXEC);
        Samples first = r.add(SECTION, "create to first exec true", FloorSection.BOOT_EXEC);
        Samples post = r.add(SECTION, "POST /sandboxes (create call)", FloorSection.BOOT);
        Samples del = r.add(SECTION, "DELETE /sandboxes/{id} (destroy)", null);
        Samples kernel = r.add(SECTION, BOOT_TO_READY, null);
        Samples jvm = r.add(SECTION, JVM_TO_READY, BOOT_TO_READY);
        for (int i = 0; i < Math.max(o.nCreate, bare ? o.nBare : 0); i++) {
            if (bare && i < o.nBare) FloorSection.bootBare(ctx, i); // the floor, interleaved: bare boot, create, bare boot, ...
            if (i >= o.nCreate) continue;
            long t0 = System.nanoTime();
            String id = api.create(ctx.name("c" + i), o.cpus, o.memoryMb, false);
            long t1 = System.nanoTime();
            int attempts = 0;
            while (true) {
                attempts++;
                var resp = api.exec(id, List.of("true"));
                if (resp.status() == 200 && resp.json().path("exit_code").asInt(-1) == 0) break;
                if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(180)) {
                    throw new BenchFailure("first exec in " + id + " never succeeded: " + resp.status() + " " + resp.body());
                }
                Thread.sleep(20);
            }
            long t2 = System.nanoTime();
            post.add(t1 - t0);
            (i == 0 ? firstOfKind : first).add(t2 - t0);
            var ready = GuestSection.readyTimes(api, id);
            kernel.add(ready.getOrDefault("boot_to_ready_ms", 0L) * 1_000_000);
            jvm.add(ready.getOrDefault("jvm_start_to_ready_ms", 0L) * 1_000_000);
            del.add(Timer.time(() -> api.destroy(id)));
            System.out.printf(Locale.ROOT, "  #%d  create %.0f ms, first exec after %.0f ms (attempts: %d)%n",
                    i + 1, (t1 - t0) / 1e6, (t2 - t0) / 1e6, attempts);
        }
        r.print(SECTION);
    }
}
