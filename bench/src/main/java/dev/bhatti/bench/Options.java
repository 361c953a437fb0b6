package dev.bhatti.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** Command-line options of the harness; {@code --quick} first sets small counts that later options may override. */
public final class Options {
    String url;
    String token;
    String cli;
    Path daemonLog;
    Path dataDir;
    Path images;
    /** The static program that times the guest's own spawn of /bin/true (bench/src/main/c), or null. */
    Path spawnFloor;
    /** A launcher of a Java hello-world with the CLI's JVM flags, the floor for the CLI's start, or null. */
    String hello;
    /** Execs and file transfers the guest section does before it reads the agent's memory. */
    int agentExecs = 100;
    int agentTransfers = 10;
    Path outDir = Path.of("bench/results");
    String hostLabel;
    boolean quick;
    int proxyPort;
    String proxyDomain = "bench.test";
    String prefix = "bench-" + Long.toHexString(System.nanoTime() & 0xffffff);

    int cpus = 1;
    int memoryMb = 512;
    int nCreate = 5;
    int nBare = 3;
    int nFloor = 100;
    int nHttp = 100;
    int warmHttp = 5;
    int nCli = 10;
    int warmCli = 2;
    int nConcurrent = 10;
    List<Integer> concurrency = List.of(5, 10, 20);
    int nFiles = 30;
    List<Integer> fileSizes = List.of(1024, 10 * 1024, 100 * 1024, 1024 * 1024);
    int nApi = 100;
    int nPause = 20;
    int nCold = 5;
    List<Integer> thermalMemory = List.of(256, 1024);
    int nProxy = 50;
    int nShells = 5;
    int nKeys = 100;
    /** Idle sandboxes the density section creates at most; 0 skips it (it holds the host for minutes). */
    int density = 0;
    /** {@code --only density}: that section alone (it needs nothing the others set up). */
    boolean densityOnly;
    /** {@code --only sdk}: the shared sandbox and the SDK section alone. */
    boolean sdkOnly;
    /** Exec round trips per client in the SDK section. */
    int nSdk = 30;
    /** The SDKs' sources (sdk/ of the repository; default: beside the --cli launcher's bin/). */
    Path sdkDir;
    int loadClients = 50;
    int loadSeconds = 5;
    boolean jmh = true;
    String jmhArgs = "-f 1 -wi 3 -i 5 -w 1s -r 1s";

    /** Few iterations, one small guest for the thermal section: checks the harness end to end in minutes. */
    void quick() {
        quick = true;
        memoryMb = 256;             // the shared sandbox doubles as the thermal section's guest (one boot less)
        nCreate = 2;                // the first of its kind boots and leaves the template; the second restores it
        nBare = 1;
        nFloor = 5;
        nHttp = 5;
        nSdk = 10;
        warmHttp = 1;
        nCli = 1;
        warmCli = 1;
        nConcurrent = 1;
        concurrency = List.of(5);
        nFiles = 3;
        nApi = 10;
        nPause = 3;
        nCold = 1;
        thermalMemory = List.of(256);
        nProxy = 3;
        nShells = 1;
        nKeys = 5;
        loadClients = 10;
        loadSeconds = 1;
        jmhArgs = "-f 0 -wi 1 -i 1 -w 100ms -r 100ms"; // a smoke run: every benchmark executes once, in-process
    }

    static Options parse(String[] a) {
        var o = new Options();
        if (Arrays.asList(a).contains("--quick")) o.quick();
        for (int i = 0; i < a.length; i++) {
            String v = i + 1 < a.length ? a[i + 1] : null;
            String opt = a[i];
            if (opt.equals("--quick")) continue;
            if (opt.equals("--no-jmh")) { o.jmh = false; continue; }
            if (v == null) usage("missing value for " + opt);
            i++;
            switch (opt) {
                case "--url" -> o.url = v.replaceAll("/+$", "");
                case "--token" -> o.token = v;
                case "--cli" -> o.cli = v;
                case "--daemon-log" -> o.daemonLog = Path.of(v);
                case "--data-dir" -> o.dataDir = Path.of(v);
                case "--images" -> o.images = Path.of(v);
                case "--spawn-floor" -> o.spawnFloor = Path.of(v);
                case "--hello" -> o.hello = v;
                case "--out" -> o.outDir = Path.of(v);
                case "--host" -> o.hostLabel = v;
                case "--proxy-port" -> o.proxyPort = Integer.parseInt(v);
                case "--proxy-domain" -> o.proxyDomain = v;
                case "--prefix" -> o.prefix = v;
                case "--cpus" -> o.cpus = Integer.parseInt(v);
                case "--memory" -> o.memoryMb = Integer.parseInt(v);
                case "--n-create" -> o.nCreate = Integer.parseInt(v);
                case "--n-bare" -> o.nBare = Integer.parseInt(v);
                case "--n-floor" -> o.nFloor = Integer.parseInt(v);
                case "--n-http" -> o.nHttp = Integer.parseInt(v);
                case "--warmup-http" -> o.warmHttp = Integer.parseInt(v);
                case "--n-cli" -> o.nCli = Integer.parseInt(v);
                case "--warmup-cli" -> o.warmCli = Integer.parseInt(v);
                case "--n-concurrent" -> o.nConcurrent = Integer.parseInt(v);
                case "--concurrency" -> o.concurrency = ints(v);
                case "--n-files" -> o.nFiles = Integer.parseInt(v);
                case "--file-sizes" -> o.fileSizes = ints(v);
                case "--n-api" -> o.nApi = Integer.parseInt(v);
                case "--n-pause" -> o.nPause = Integer.parseInt(v);
                case "--n-cold" -> o.nCold = Integer.parseInt(v);
                case "--thermal-memory" -> o.thermalMemory = ints(v);
                case "--n-proxy" -> o.nProxy = Integer.parseInt(v);
                case "--n-shells" -> o.nShells = Integer.parseInt(v);
                case "--n-keys" -> o.nKeys = Integer.parseInt(v);
                case "--density" -> o.density = Integer.parseInt(v);
                case "--only" -> {
                    switch (v) {
                        case "density" -> o.densityOnly = true;
                        case "sdk" -> o.sdkOnly = true;
                        default -> throw new IllegalArgumentException("--only takes: density, sdk");
                    }
                }
                case "--n-sdk" -> o.nSdk = Integer.parseInt(v);
                case "--sdk-dir" -> o.sdkDir = Path.of(v);
                case "--load-clients" -> o.loadClients = Integer.parseInt(v);
                case "--load-seconds" -> o.loadSeconds = Integer.parseInt(v);
                case "--jmh-args" -> o.jmhArgs = v;
                default -> usage("unknown option " + opt);
            }
        }
        if (o.url == null || o.token == null || o.cli == null) usage("--url, --token and --cli are required");
        if (o.token.isBlank()) usage("empty token");
        if (o.sdkDir == null) o.sdkDir = Path.of(o.cli).toAbsolutePath().getParent().resolveSibling("sdk");
        return o;
    }

    private static List<Integer> ints(String v) {
        return v.isBlank() ? List.of() : Arrays.stream(v.split(",")).map(String::trim).map(Integer::parseInt).toList();
    }

    static void usage(String msg) {
        System.err.println("bench: " + msg + """

                usage: java -jar bhatti-bench.jar --url URL --token KEY --cli PATH/bin/bhatti [--quick]
                  [--daemon-log FILE] [--data-dir DIR] [--images DIR (bare-QEMU floors; omitted: skipped)] [--out DIR] [--host LABEL]
                  [--proxy-port P] [--proxy-domain D] [--cpus 1] [--memory 512]
                  [--n-create 5] [--n-bare 3] [--n-floor 100] [--n-http 100] [--warmup-http 5] [--n-cli 10] [--warmup-cli 2]
                  [--n-concurrent 10] [--concurrency 5,10,20] [--n-files 30] [--file-sizes 1024,10240,102400,1048576]
                  [--n-api 100] [--n-pause 20] [--n-cold 5] [--thermal-memory 256,1024 (empty: skip)] [--n-proxy 50] [--n-shells 5] [--n-keys 100] [--density N (0: skip)] [--only density|sdk] [--n-sdk 30] [--sdk-dir DIR]
                  [--load-clients 50] [--load-seconds 5 (0: skip)] [--no-jmh] [--jmh-args '-f 1 -wi 3 -i 5 -w 1s -r 1s']
                Normally started by bench/run, which starts and stops a private daemon. See bench/README.md.""");
        System.exit(2);
    }
}
