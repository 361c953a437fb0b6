package dev.bhatti.server.net;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The host's IPv4 address on its default route, found without sending anything: the interface of the
 * default route in {@code /proc/net/route}, then that interface's address. Used to name the host in
 * published URLs when the daemon listens on every address.
 */
public final class DefaultRoute {
    private static final Path ROUTES = Path.of("/proc/net/route");
    private static final int RTF_UP = 0x1;

    private DefaultRoute() {}

    /** The address, or empty on a host with no default route (or one whose interface has no IPv4 address). */
    public static Optional<Inet4Address> address() {
        try {
            Optional<String> iface = defaultInterface(Files.readString(ROUTES));
            if (iface.isEmpty()) return Optional.empty();
            NetworkInterface ni = NetworkInterface.getByName(iface.get());
            if (ni == null) return Optional.empty();
            return ni.inetAddresses().filter(a -> a instanceof Inet4Address && !a.isLinkLocalAddress())
                    .map(Inet4Address.class::cast).findFirst();
        } catch (IOException e) { // SocketException is one: no routes to read means no default route to name
            return Optional.empty();
        }
    }

    /**
     * The interface of the default route (destination and mask 0, up) with the lowest metric, from the
     * text of {@code /proc/net/route}: a header line, then {@code Iface Destination Gateway Flags RefCnt
     * Use Metric Mask ...} per route, numbers in hex.
     */
    static Optional<String> defaultInterface(String routes) {
        String best = null;
        long bestMetric = Long.MAX_VALUE;
        for (String line : routes.lines().skip(1).toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 8) continue;
            try {
                boolean isDefault = Long.parseLong(f[1], 16) == 0 && Long.parseLong(f[7], 16) == 0;
                boolean up = (Integer.parseInt(f[3], 16) & RTF_UP) != 0;
                long metric = Long.parseLong(f[6]);
                if (isDefault && up && metric < bestMetric) {
                    best = f[0];
                    bestMetric = metric;
                }
            } catch (NumberFormatException e) {
                // not a route line
            }
        }
        return Optional.ofNullable(best);
    }
}
