package dev.bhatti.server.net;

import java.util.regex.Pattern;

/** The DNS names the daemon accepts (RFC 1123 host names, lower case): labels of letters, digits and inner hyphens. */
public final class DnsNames {
    private static final String LABEL_SHAPE = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";

    /** One label, 1 to 63 characters. */
    public static final Pattern LABEL = Pattern.compile(LABEL_SHAPE);

    /** One or more labels joined by dots, without the root's trailing dot. */
    public static final Pattern NAME = Pattern.compile("(" + LABEL_SHAPE + "\\.)*" + LABEL_SHAPE);

    private DnsNames() {}
}
