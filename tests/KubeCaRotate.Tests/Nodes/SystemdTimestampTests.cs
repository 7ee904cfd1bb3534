using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

/// <summary>The shapes `systemctl show kubelet --property=ActiveEnterTimestamp --value` really prints.</summary>
public sealed class SystemdTimestampTests
{
    [Theory]
    [InlineData("Sun 2026-11-29 10:01:02 UTC\n", "2026-11-29T10:01:02.0000000+00:00")]
    [InlineData("Sat 2021-12-11 14:25:57.196714 UTC", "2021-12-11T14:25:57.1967140+00:00")] // --timestamp=us+utc (systemd 251+)
    [InlineData("Thu 2023-11-02 12:27:24 +0100", "2023-11-02T11:27:24.0000000+00:00")]
    [InlineData("Thu 2023-11-02 06:27:24 -05:30", "2023-11-02T11:57:24.0000000+00:00")]
    [InlineData("@1764410462", "2025-11-29T10:01:02.0000000+00:00")] // --timestamp=unix
    [InlineData("  Sun 2026-11-29 10:01:02 GMT  ", "2026-11-29T10:01:02.0000000+00:00")]
    public void A_timestamp_is_one_instant_in_utc(string output, string expected)
    {
        var parsed = SystemdTimestamp.Parse(output);

        Assert.Null(parsed.Error);
        Assert.False(parsed.Never);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), parsed.At);
        Assert.Equal(TimeSpan.Zero, parsed.At!.Value.Offset);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("n/a\n")]
    public void A_unit_that_never_became_active_prints_no_timestamp(string output)
    {
        var parsed = SystemdTimestamp.Parse(output);

        Assert.True(parsed.Never);
        Assert.Null(parsed.At);
        Assert.Null(parsed.Error);
    }

    [Theory]
    [InlineData("Thu 2023-11-02 12:27:24 CET", "CET, whose abbreviation does not name one UTC offset")] // a node not in UTC, without TZ=UTC
    [InlineData("Mon 2026-11-29 10:01:02 UTC", "names Mon, but 2026-11-29 is a Sunday")]
    [InlineData("Sun 2026-11-29 10:01:02", "names no time zone")]
    [InlineData("Sun 2026-02-30 10:01:02 UTC", "is not a valid date and time")]
    [InlineData("active", "'active' is not a systemd timestamp")]
    [InlineData("ActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC", "is not a systemd timestamp")] // without --value
    [InlineData("Sun 2026-11-29 10:01:02 UTC\nSun 2026-11-29 10:01:03 UTC", "expected one timestamp line, got 2 lines")]
    [InlineData("1764410462", "is not a systemd timestamp")] // ActiveEnterTimestampMonotonic-like: a number is not a time
    public void Anything_else_is_refused_with_the_reason(string output, string reason)
    {
        var parsed = SystemdTimestamp.Parse(output);

        Assert.Null(parsed.At);
        Assert.False(parsed.Never);
        Assert.Contains(reason, parsed.Error);
    }

    [Fact]
    public void The_lab_prints_what_systemctl_prints_with_tz_utc()
    {
        var at = new DateTimeOffset(2026, 11, 29, 11, 1, 2, 345, TimeSpan.FromHours(1));

        Assert.Equal("Sun 2026-11-29 10:01:02 UTC", SystemdTimestamp.Format(at));
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 10, 1, 2, TimeSpan.Zero), SystemdTimestamp.Parse(SystemdTimestamp.Format(at)).At);
    }
}
