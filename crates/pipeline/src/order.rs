//! The order stage: every spool merged into one stream by time.
//!
//! Each spool is in time order already; the merge takes the earliest head of all of them,
//! ties going to the spool listed first, so each input keeps its own order and every event
//! gets the same position in the stream however many workers read it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

use crate::spool::{Head, InputReader, Spool, SpoolReader};

/// Reads spools merged by time: [`Merge::next_record`] gives the next record's spool and head, and
/// its document may then be read with [`Merge::document`] (or skipped, at no cost).
pub struct Merge {
    readers: Vec<SpoolReader>,
    /// Per spool, the reader of its input file when records point into it.
    inputs: Vec<Option<InputReader>>,
    heads: Vec<Option<Head>>,
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    current: Option<usize>,
}

impl Merge {
    pub fn new(spools: &[Spool]) -> io::Result<Merge> {
        let mut readers = Vec::with_capacity(spools.len());
        let mut inputs = Vec::with_capacity(spools.len());
        let mut heads = Vec::with_capacity(spools.len());
        let mut heap = BinaryHeap::new();
        for (i, spool) in spools.iter().enumerate() {
            let mut reader = SpoolReader::new(&spool.file)?;
            let head = reader.next_head()?;
            if let Some(h) = &head {
                heap.push(Reverse((h.timestamp, i)));
            }
            readers.push(reader);
            heads.push(head);
            inputs.push(
                spool
                    .input_file
                    .as_ref()
                    .map(InputReader::new)
                    .transpose()?,
            );
        }
        Ok(Merge {
            readers,
            inputs,
            heads,
            heap,
            current: None,
        })
    }

    /// The next record of the merged stream: the index of its spool and its head.
    pub fn next_record(&mut self) -> io::Result<Option<(usize, Head)>> {
        if let Some(i) = self.current.take() {
            self.heads[i] = self.readers[i].next_head()?;
            if let Some(h) = &self.heads[i] {
                self.heap.push(Reverse((h.timestamp, i)));
            }
        }
        let Some(Reverse((_, i))) = self.heap.pop() else {
            return Ok(None);
        };
        self.current = Some(i);
        let head = self.heads[i].expect("a queued spool has a head");
        Ok(Some((i, head)))
    }

    /// The document of the record [`Merge::next_record`] gave last, from its spool or from
    /// its input file.
    pub fn document<'b>(&mut self, buf: &'b mut Vec<u8>) -> Result<&'b [u8], DocumentReadError> {
        let i = self.current.expect("document() follows next_record()");
        let head = self.heads[i].expect("the current spool has a head");
        if !head.in_input {
            return self.readers[i]
                .document(buf)
                .map_err(DocumentReadError::Spool);
        }
        match &mut self.inputs[i] {
            Some(input) => input
                .read(head.offset, head.len, buf)
                .map_err(DocumentReadError::Input),
            None => Err(DocumentReadError::Spool(io::Error::other(
                "a record points into an input file that is not open",
            ))),
        }
    }
}

/// Why a document could not be read back.
#[derive(Debug)]
pub enum DocumentReadError {
    /// Reading the spool, in the temporary directory.
    Spool(io::Error),
    /// Reading the input file where the document is.
    Input(io::Error),
}
