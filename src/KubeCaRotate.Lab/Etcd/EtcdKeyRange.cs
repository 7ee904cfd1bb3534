using System.Text;

namespace KubeCaRotate.Lab.Etcd;

/// <summary>Key ranges as etcd expresses them: [key, range_end).</summary>
internal static class EtcdKeyRange
{
    public static byte[] Key(string key) => Encoding.UTF8.GetBytes(key);

    /// <summary>The range holding every key that starts with <paramref name="prefix"/> (range_end = prefix + 1);
    /// the empty prefix is etcd's "\0" to "\0", i.e. all keys.</summary>
    public static (byte[] Key, byte[] RangeEnd) Prefix(string prefix)
    {
        var key = Encoding.UTF8.GetBytes(prefix);
        if (key.Length == 0) return ([0], [0]);
        var end = (byte[])key.Clone();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return (key, end[..(i + 1)]);
            }
        }
        return (key, [0]);
    }
}
