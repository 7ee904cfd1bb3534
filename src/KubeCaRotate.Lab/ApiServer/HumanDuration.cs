namespace KubeCaRotate.Lab.ApiServer;

/// <summary>Ages as kubectl's AGE column prints them ("45s", "3m20s", "5h", "12d").</summary>
internal static class HumanDuration
{
    public static string Format(TimeSpan d)
    {
        if (d < TimeSpan.FromSeconds(-1))
            return "<invalid>";
        if (d < TimeSpan.Zero)
            return "0s";
        var seconds = (long)d.TotalSeconds;
        if (seconds < 120)
            return $"{seconds}s";
        var minutes = (long)d.TotalMinutes;
        if (minutes < 10)
            return seconds % 60 == 0 ? $"{minutes}m" : $"{minutes}m{seconds % 60}s";
        if (minutes < 180)
            return $"{minutes}m";
        var hours = (long)d.TotalHours;
        if (hours < 8)
            return minutes % 60 == 0 ? $"{hours}h" : $"{hours}h{minutes % 60}m";
        if (hours < 48)
            return $"{hours}h";
        if (hours < 24 * 8)
            return hours % 24 == 0 ? $"{hours / 24}d" : $"{hours / 24}d{hours % 24}h";
        if (hours < 24 * 365 * 2)
            return $"{hours / 24}d";
        var years = hours / 24 / 365;
        var days = hours / 24 % 365;
        return hours < 24 * 365 * 8 && days != 0 ? $"{years}y{days}d" : $"{years}y";
    }
}
