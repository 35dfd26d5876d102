#pragma once
// A small open-addressing hash index (linear probing, power-of-two capacity) for the key graph's
// hot lookups. Slots hold the full hash and a value; the caller decides equality, so keys can
// live elsewhere (a digest's id points into the graph's digest list). No per-entry allocation.
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace cachescope::cache {

// Mixes a 64-bit value (splitmix64's finaliser).
inline std::uint64_t mixHash(std::uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// Hashes all bytes of a string (digests are 71 bytes), eight at a time.
inline std::uint64_t hashBytes(std::string_view s)
{
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
        std::uint64_t w = 0;
        for (int k = 0; k < 8; ++k)
            w |= std::uint64_t(static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)])) << (8 * k);
        h = mixHash(h ^ w);
    }
    std::uint64_t w = 0;
    for (int k = 0; i < s.size(); ++i, ++k)
        w |= std::uint64_t(static_cast<unsigned char>(s[i])) << (8 * k);
    return mixHash(h ^ w);
}

template <class Value>
class FlatHashIndex {
public:
    void reserve(std::size_t n)
    {
        std::size_t capacity = 16;
        while (capacity < n * 2)
            capacity <<= 1;
        if (capacity > slots_.size())
            rehash(capacity);
    }
    std::size_t size() const { return size_; }

    template <class Eq>
    const Value* find(std::uint64_t hash, Eq&& eq) const
    {
        if (slots_.empty())
            return nullptr;
        hash = nonZero(hash);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
            const Slot& s = slots_[i];
            if (s.hash == 0)
                return nullptr;
            if (s.hash == hash && eq(s.value))
                return &s.value;
        }
    }

    // Returns the value for the key (inserting `value` when absent) and whether it was inserted.
    template <class Eq>
    std::pair<Value*, bool> findOrInsert(std::uint64_t hash, Eq&& eq, const Value& value)
    {
        if ((size_ + 1) * 2 > slots_.size())
            rehash(slots_.empty() ? 16 : slots_.size() * 2);
        hash = nonZero(hash);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
            Slot& s = slots_[i];
            if (s.hash == 0) {
                s.hash = hash;
                s.value = value;
                ++size_;
                return {&s.value, true};
            }
            if (s.hash == hash && eq(s.value))
                return {&s.value, false};
        }
    }

private:
    struct Slot {
        std::uint64_t hash = 0; // 0 = empty
        Value value{};
    };

    static std::uint64_t nonZero(std::uint64_t h) { return h ? h : 1; }

    void rehash(std::size_t capacity)
    {
        std::vector<Slot> old(capacity);
        old.swap(slots_);
        const std::size_t mask = capacity - 1;
        for (const Slot& s : old) {
            if (s.hash == 0)
                continue;
            std::size_t i = s.hash & mask;
            while (slots_[i].hash != 0)
                i = (i + 1) & mask;
            slots_[i] = s;
        }
    }

    std::vector<Slot> slots_;
    std::size_t size_ = 0;
};

} // namespace cachescope::cache
