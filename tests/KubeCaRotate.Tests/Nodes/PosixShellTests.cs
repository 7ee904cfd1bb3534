using System.Diagnostics;
using KubeCaRotate.Nodes;

namespace KubeCaRotate.Tests.Nodes;

public sealed class PosixShellTests
{
    public static TheoryData<string> NastyArguments() =>
    [
        "", " ", "plain", "it's", "''", "'\\''", "a \"b\" c", "$HOME", "${HOME}", "$(id)", "`id`", ";ls", "&&", "|", ">x", "<x", "*", "?", "[a]",
        "~", "~root", "a=b", "#comment", "new\nline", "\ttab", "back\\slash\\", "!", "!!", "-n", "--", "ünïcödé", "%s", "{a,b}", "\r", "\u001b[31m",
    ];

    [Theory]
    [MemberData(nameof(NastyArguments))]
    public void EveryArgumentIsOneWordThatShellsTakeLiterally(string argument)
    {
        foreach (var shell in new[] { "/bin/sh", "/bin/bash" }.Where(File.Exists))
        {
            Assert.Equal(argument + "|", Shell(shell, "printf '%s|' " + PosixShell.Quote(argument)));
        }
    }

    [Fact]
    public void AJoinedListKeepsItsArguments()
    {
        var argv = new[] { "printf", "%s|", "a b", "it's", "", "$(id)" };
        Assert.Equal("a b|it's||$(id)|", Shell("/bin/sh", PosixShell.Join(argv)));
    }

    [Fact]
    public void PlainWordsStayBareAndNulIsRefused()
    {
        Assert.Equal("/etc/kubernetes/pki/ca.crt", PosixShell.Quote("/etc/kubernetes/pki/ca.crt"));
        Assert.Equal("'a=b'", PosixShell.Quote("a=b"));
        Assert.Throws<ArgumentException>(() => PosixShell.Quote("a\0b"));
    }

    private static string Shell(string shell, string commandLine)
    {
        var start = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(commandLine);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{shell} -c {commandLine} exited {process.ExitCode}: {error}");
        return output;
    }
}
