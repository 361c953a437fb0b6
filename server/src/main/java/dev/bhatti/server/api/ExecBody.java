package dev.bhatti.server.api;

import java.util.List;
import java.util.Map;

/**
 * Body of {@code POST /sandboxes/{id}/exec}. {@code stdin} is text fed to the command's standard input;
 * with {@code detach} the command runs in the background and its output goes to {@code output_file}.
 */
public record ExecBody(List<String> cmd, Integer timeoutSec, Map<String, String> env, String cwd, String user, String stdin,
                       Boolean detach, String outputFile) {}
