package dev.bhatti.bench.jmh;

import dev.bhatti.server.api.ExecBody;
import dev.bhatti.server.api.Json;
import dev.bhatti.server.sandbox.SandboxView;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The API's JSON mapper on its records: a sandbox (inspect), a list of 20 (list), an exec body (request). */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JsonBench {
    private SandboxView one;
    private List<SandboxView> twenty;
    private String execJson;

    @Setup
    public void setUp() {
        twenty = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            twenty.add(new SandboxView("0123456789abcdef" + i, "dev-" + i, "running", "hot", "", 1, 512, "minimal", "qemu", "tcg",
                    "10.200.0." + (i + 2), "open", List.of(), false, null, "2026-12-02T15:00:00Z", List.of(), java.util.Map.of()));
        }
        one = twenty.getFirst();
        execJson = "{\"cmd\":[\"sh\",\"-c\",\"echo hello\"],\"timeout_sec\":30,\"env\":{\"A\":\"1\"},\"cwd\":\"/workspace\"}";
    }

    @Benchmark public String writeSandbox() { return Json.MAPPER.writeValueAsString(one); }

    @Benchmark public String writeSandboxList20() { return Json.MAPPER.writeValueAsString(twenty); }

    @Benchmark public ExecBody readExecBody() { return Json.MAPPER.readValue(execJson, ExecBody.class); }
}
