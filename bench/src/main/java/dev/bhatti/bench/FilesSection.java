package dev.bhatti.bench;

import java.util.Arrays;

/** File write (PUT) and read (GET) of 1 KB to 1 MB, and a directory listing. Floors: the same on the bare agent. */
final class FilesSection implements Section {
    static final String SECTION = "files";

    @Override public String title() { return "file write, read and ls via HTTP"; }

    @Override
    public void run(Context ctx) throws Exception {
        Options o = ctx.opt();
        Results r = ctx.results();
        Api api = ctx.api();
        String id = ctx.mainId;
        for (int size : o.fileSizes) {
            byte[] content = Sizes.content(size);
            String path = "/tmp/bench-" + size;
            var bare = ctx.bare;
            Samples fw = bare == null ? null : r.add(FloorSection.SECTION, FloorSection.write(size), null);
            Samples fr = bare == null ? null : r.add(FloorSection.SECTION, FloorSection.read(size), null);
            Samples w = r.add(SECTION, "file write " + Sizes.label(size), FloorSection.write(size));
            Samples rd = r.add(SECTION, "file read " + Sizes.label(size), FloorSection.read(size));
            api.writeFile(id, path, content); // warm-up
            api.readFile(id, path);
            for (int i = 0; i < o.nFiles; i++) {
                if (bare != null) {    // the floor, interleaved
                    fw.add(Timer.time(() -> BareAgent.write(bare, path, content)));
                    fr.add(Timer.time(() -> BareAgent.read(bare, path, size)));
                }
                w.add(Timer.time(() -> api.writeFile(id, path, content)));
                byte[][] got = new byte[1][];
                rd.add(Timer.time(() -> got[0] = api.readFile(id, path)));
                if (!Arrays.equals(got[0], content)) throw new BenchFailure("read back " + got[0].length + " bytes of " + path + ", not what was written");
            }
        }
        Samples fls = ctx.bare == null ? null : r.add(FloorSection.SECTION, FloorSection.LS, null);
        Samples ls = r.add(SECTION, "file ls /usr/bin", FloorSection.LS);
        for (int i = 0; i < o.nFiles; i++) {
            if (ctx.bare != null) fls.add(Timer.time(() -> BareAgent.list(ctx.bare, "/usr/bin")));
            int[] n = new int[1];
            ls.add(Timer.time(() -> n[0] = api.listFiles(id, "/usr/bin")));
            if (n[0] == 0) throw new BenchFailure("ls /usr/bin listed nothing");
        }
        r.print(SECTION);
    }
}
