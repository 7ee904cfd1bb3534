using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

/// <summary>
/// The shapes `env TZ=UTC systemctl show kubelet --property=ActiveState --property=ActiveEnterTimestamp` really prints
/// (KEY=VALUE lines in systemd's property order, ActiveState first; a property asked for by name is printed even when
/// empty), and the bare timestamp a custom command may still print.
/// </summary>
public sealed class SystemdUnitActivityTests
{
    private static readonly DateTimeOffset Started = new(2026, 11, 29, 10, 1, 2, TimeSpan.Zero);

    [Theory]
    [InlineData("ActiveState=active\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\n")]
    [InlineData("ActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\nActiveState=active\n")] // any order
    [InlineData("ActiveState=reloading\r\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\r\n")] // reloading: still running
    public void An_active_unit_runs_since_its_active_enter_timestamp(string output)
    {
        var parsed = SystemdUnitActivity.Parse(output);

        Assert.Null(parsed.Error);
        Assert.True(parsed.Running);
        Assert.Equal(Started, parsed.Entered.At);
    }

    [Theory]
    [InlineData("ActiveState=inactive\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\n", "inactive")] // systemctl stop kubelet: the timestamp stays
    [InlineData("ActiveState=failed\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\n", "failed")]
    [InlineData("ActiveState=activating\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\n", "activating")] // crash loop: auto-restart pending
    [InlineData("ActiveState=deactivating\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\n", "deactivating")]
    public void A_unit_that_is_not_active_does_not_run_although_its_last_start_is_still_printed(string output, string state)
    {
        var parsed = SystemdUnitActivity.Parse(output);

        Assert.Null(parsed.Error);
        Assert.False(parsed.Running);
        Assert.Equal(state, parsed.ActiveState);
        Assert.Equal(Started, parsed.Entered.At);
    }

    [Theory]
    [InlineData("ActiveState=inactive\nActiveEnterTimestamp=\n")] // systemd prints an asked-for empty property
    [InlineData("ActiveState=inactive\nActiveEnterTimestamp=n/a\n")]
    public void A_unit_that_never_started_is_inactive_with_no_timestamp(string output)
    {
        var parsed = SystemdUnitActivity.Parse(output);

        Assert.Null(parsed.Error);
        Assert.False(parsed.Running);
        Assert.True(parsed.Entered.Never);
        Assert.Null(parsed.Entered.At);
    }

    [Theory]
    [InlineData("Sun 2026-11-29 10:01:02 UTC\n")] // --property=ActiveEnterTimestamp --value, or the lab's earlier `cat`
    [InlineData("ActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC\n")] // without --value and without ActiveState
    public void Output_without_active_state_keeps_working_and_counts_as_running(string output)
    {
        var parsed = SystemdUnitActivity.Parse(output);

        Assert.Null(parsed.Error);
        Assert.Null(parsed.ActiveState);
        Assert.True(parsed.Running);
        Assert.Equal(Started, parsed.Entered.At);
    }

    [Theory]
    [InlineData("ActiveState=active\nSubState=running\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC", "it printed SubState, but only ActiveState and ActiveEnterTimestamp are read")]
    [InlineData("ActiveState=active\nActiveState=inactive\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC", "it printed ActiveState twice")]
    [InlineData("ActiveState=active\n", "it printed no ActiveEnterTimestamp line; add --property=ActiveEnterTimestamp")]
    [InlineData("ActiveState=running\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 UTC", "ActiveState='running' is not a systemd unit state")]
    [InlineData("ActiveState=active\nActiveEnterTimestamp=Sun 2026-11-29 10:01:02 CET", "ActiveEnterTimestamp: 'Sun 2026-11-29 10:01:02 CET' is in the time zone CET")]
    [InlineData("ActiveState=active\nSun 2026-11-29 10:01:02 UTC", "'Sun 2026-11-29 10:01:02 UTC' is not a KEY=VALUE line as systemctl show prints")]
    [InlineData("active\nSun 2026-11-29 10:01:02 UTC", "expected one timestamp line, got 2 lines")] // both properties with --value: which is which is not said
    [InlineData("active", "'active' is not a systemd timestamp")]
    public void Anything_else_is_refused_with_the_reason(string output, string reason)
    {
        var parsed = SystemdUnitActivity.Parse(output);

        Assert.NotNull(parsed.Error);
        Assert.Contains(reason, parsed.Error);
    }
}
