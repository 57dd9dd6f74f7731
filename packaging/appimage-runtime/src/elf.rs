//! Where the squashfs image starts in an AppImage of type 2, from its ELF header (sans-IO).
//!
//! A type 2 AppImage is an ELF executable (the runtime) with a squashfs image appended
//! directly after it. The runtime's ELF file ends with its section header table, so the image
//! starts where that table ends: `e_shoff + e_shentsize * e_shnum`. The file also carries the
//! bytes `A I 0x02` at offset 8, in the padding of the ELF identification, which tells
//! AppImage tools (and us) that it is a type 2 AppImage.

/// The magic bytes of a type 2 AppImage.
pub const MAGIC: [u8; 3] = *b"AI\x02";
/// Where [`MAGIC`] is written: in `e_ident`'s padding, which ELF loaders ignore.
pub const MAGIC_OFFSET: usize = 8;
/// How many bytes of the file [`payload_offset`] and [`has_magic`] need: the size of an
/// ELF64 header (an ELF32 header is shorter).
pub const HEADER_LEN: usize = 64;

/// Why a header gives no payload offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    /// Fewer bytes than the header needs.
    #[error("the file is too short for an ELF header")]
    TooShort,
    /// The first four bytes are not `0x7f E L F`.
    #[error("the file is not an ELF executable")]
    NotElf,
    /// `EI_CLASS` is neither 32 nor 64 bits.
    #[error("unknown ELF class {0}")]
    UnknownClass(u8),
    /// `EI_DATA` is neither little nor big endian.
    #[error("unknown ELF byte order {0}")]
    UnknownByteOrder(u8),
    /// The runtime has no section header table (e.g. stripped with `sstrip`), or uses the
    /// extended numbering (`e_shnum` 0): its end cannot be told from the header alone.
    #[error("the ELF file has no section header table to find its end by")]
    NoSectionHeaders,
    /// The table's end does not fit in 64 bits.
    #[error("the ELF section header table's end overflows")]
    Overflow,
}

/// The offset of the squashfs image: the end of the section header table that `header`
/// (the first bytes of the file, at least [`HEADER_LEN`] of them or a whole ELF32 header)
/// describes. Works for 32 and 64-bit ELF files of either byte order.
pub fn payload_offset(header: &[u8]) -> Result<u64, ElfError> {
    if header.len() < 16 {
        return Err(ElfError::TooShort);
    }
    if header[..4] != *b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    let big_endian = match header[5] {
        1 => false,
        2 => true,
        other => return Err(ElfError::UnknownByteOrder(other)),
    };
    // (offset of e_shoff, its width, offset of e_shentsize; e_shnum follows it), by class.
    let (shoff_at, shoff_len, shentsize_at, header_len) = match header[4] {
        1 => (0x20, 4, 0x2e, 52),
        2 => (0x28, 8, 0x3a, 64),
        other => return Err(ElfError::UnknownClass(other)),
    };
    if header.len() < header_len {
        return Err(ElfError::TooShort);
    }
    let field = |at: usize, len: usize| -> u64 {
        let bytes = &header[at..at + len];
        let fold = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
        if big_endian {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        }
    };
    let shoff = field(shoff_at, shoff_len);
    let shentsize = field(shentsize_at, 2);
    let shnum = field(shentsize_at + 2, 2);
    if shoff == 0 || shnum == 0 {
        return Err(ElfError::NoSectionHeaders);
    }
    shentsize.checked_mul(shnum).and_then(|table| table.checked_add(shoff)).ok_or(ElfError::Overflow)
}

/// Whether `header` carries the type 2 AppImage magic at offset 8.
pub fn has_magic(header: &[u8]) -> bool {
    header.get(MAGIC_OFFSET..MAGIC_OFFSET + MAGIC.len()) == Some(&MAGIC[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF64 little-endian header with the given section header table.
    fn elf64_le(shoff: u64, shentsize: u16, shnum: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = 1;
        h[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        h[0x3a..0x3c].copy_from_slice(&shentsize.to_le_bytes());
        h[0x3c..0x3e].copy_from_slice(&shnum.to_le_bytes());
        h
    }

    #[test]
    fn elf64_little_endian_ends_after_its_section_headers() {
        assert_eq!(payload_offset(&elf64_le(0x1000, 64, 30)), Ok(0x1000 + 64 * 30));
    }

    #[test]
    fn elf32_big_endian_is_read_too() {
        let mut h = vec![0u8; 52];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 1;
        h[5] = 2;
        h[0x20..0x24].copy_from_slice(&0x2000u32.to_be_bytes());
        h[0x2e..0x30].copy_from_slice(&40u16.to_be_bytes());
        h[0x30..0x32].copy_from_slice(&12u16.to_be_bytes());
        assert_eq!(payload_offset(&h), Ok(0x2000 + 40 * 12));
    }

    #[test]
    fn what_is_not_an_elf_file_with_section_headers_is_refused() {
        assert_eq!(payload_offset(b"\x7fELF"), Err(ElfError::TooShort));
        assert_eq!(payload_offset(&[0u8; 64]), Err(ElfError::NotElf));
        let mut h = elf64_le(0x1000, 64, 3);
        h[4] = 3;
        assert_eq!(payload_offset(&h), Err(ElfError::UnknownClass(3)));
        let mut h = elf64_le(0x1000, 64, 3);
        h[5] = 0;
        assert_eq!(payload_offset(&h), Err(ElfError::UnknownByteOrder(0)));
        assert_eq!(payload_offset(&elf64_le(0, 64, 3)), Err(ElfError::NoSectionHeaders));
        assert_eq!(payload_offset(&elf64_le(0x1000, 64, 0)), Err(ElfError::NoSectionHeaders));
        assert_eq!(payload_offset(&elf64_le(u64::MAX - 10, 64, 3)), Err(ElfError::Overflow));
        assert_eq!(payload_offset(&elf64_le(0x1000, 64, 3)[..40]), Err(ElfError::TooShort));
    }

    #[test]
    fn the_magic_is_at_offset_8() {
        let mut h = elf64_le(0x1000, 64, 3);
        assert!(!has_magic(&h));
        h[8..11].copy_from_slice(&MAGIC);
        assert!(has_magic(&h));
        assert!(!has_magic(&h[..10]));
        // The magic sits in padding: the offset is unchanged by it.
        assert_eq!(payload_offset(&h), Ok(0x1000 + 64 * 3));
    }
}
