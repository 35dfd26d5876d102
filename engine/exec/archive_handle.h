#pragma once
// RAII for libarchive handles (internal to engine/exec).
#include <archive.h>
#include <archive_entry.h>
#include <memory>

namespace cachescope::exec::detail {

struct ArchiveReadFree {
    void operator()(archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
    void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
    void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;
using ArchiveWriter = std::unique_ptr<archive, ArchiveWriteFree>;
using ArchiveEntry = std::unique_ptr<archive_entry, EntryFree>;

inline const char* archiveMessage(archive* a)
{
    const char* m = archive_error_string(a);
    return m ? m : "unknown libarchive error";
}

} // namespace cachescope::exec::detail
