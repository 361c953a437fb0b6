package dev.bhatti.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import tools.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** Forwards a host loopback port to a port inside a sandbox until interrupted. */
@Command(name = "forward", description = "Forward 127.0.0.1:HOST_PORT to a port in the sandbox: bhatti forward dev 8080:3000",
        mixinStandardHelpOptions = true)
final class ForwardCmd implements Callable<Integer> {
    @Mixin ClientOptions opts;
    @Parameters(index = "0", paramLabel = "SANDBOX") String sandbox;
    @Parameters(index = "1", paramLabel = "[HOST_PORT:]GUEST_PORT", description = "e.g. 8080:3000, or 3000 for any free host port")
    String ports;
    @Option(names = {"-d", "--detach"}, description = "Return at once; the forward stays until removed (DELETE .../forward)")
    boolean detach;

    @Override
    public Integer call() throws Exception {
        int host;
        int guest;
        try {
            String[] p = ports.split(":", -1);
            if (p.length > 2) throw new NumberFormatException();
            guest = Integer.parseInt(p[p.length - 1]);
            host = p.length == 2 ? Integer.parseInt(p[0]) : 0;
        } catch (NumberFormatException e) {
            throw new CliException("ports must look like 8080:3000 (host:guest) or 3000");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("guest_port", guest);
        body.put("host_port", host);
        ApiClient client = opts.client();
        String base = "/sandboxes/" + ApiClient.segment(sandbox) + "/forward";
        JsonNode f = client.post(base, body).body();
        if (opts.json) Output.json(f);
        else System.out.println("forwarding " + f.path("host_addr").asString() + " -> " + sandbox + ":" + guest
                + (detach ? "" : " (Ctrl-C to stop)"));
        if (detach) return 0;
        int hostPort = f.path("host_port").asInt();
        var stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                client.delete(base + "/" + hostPort);
            } catch (CliException ignored) {
                // the daemon or the sandbox is gone: nothing left to close
            }
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
