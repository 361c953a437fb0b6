package dev.bhatti.engine;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A VM's network attachment: the host TAP its NIC is wired to, and the guest's identity on it
 * ({@code address} in CIDR form, e.g. 10.200.1.2/24; {@code gateway} also serves DNS). The host side
 * (bridge, TAP, firewall) belongs to the server; the engine only plugs the NIC in and tells the guest.
 */
public record GuestNet(String tap, String mac, String address, String gateway) {
    private static final Pattern TAP = Pattern.compile("[a-z][a-z0-9]{1,14}");
    private static final Pattern MAC = Pattern.compile("([0-9a-f]{2}:){5}[0-9a-f]{2}");
    private static final Pattern IPV4 = Pattern.compile("((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])");

    public GuestNet {
        Objects.requireNonNull(tap);
        Objects.requireNonNull(mac);
        Objects.requireNonNull(address);
        Objects.requireNonNull(gateway);
        if (!TAP.matcher(tap).matches()) throw new IllegalArgumentException("bad tap name " + tap);
        if (!MAC.matcher(mac).matches()) throw new IllegalArgumentException("bad mac " + mac);
        int slash = address.indexOf('/');
        if (slash < 0 || !IPV4.matcher(address.substring(0, slash)).matches() || !address.substring(slash + 1).matches("[0-9]{1,2}")
                || Integer.parseInt(address.substring(slash + 1)) > 30) {
            throw new IllegalArgumentException("bad address " + address + " (want a.b.c.d/prefix)");
        }
        if (!IPV4.matcher(gateway).matches()) throw new IllegalArgumentException("bad gateway " + gateway);
    }

    /** The guest's address without its prefix length. */
    public String ip() { return address.substring(0, address.indexOf('/')); }

    /** As the guest reads it, from the kernel command line or a resume: address,gateway,mac. */
    public String wire() { return address + "," + gateway + "," + mac; }
}
