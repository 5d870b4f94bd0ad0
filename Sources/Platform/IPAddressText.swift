import Glibc

/// Whether text is an IP address as Go's net.ParseIP takes it (dotted IPv4 or IPv6).
public enum IPAddressText {
    public static func isValid(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}
