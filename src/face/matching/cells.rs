//! The gallery's index: encodings grouped into cells of nearby faces, so a search at a million
//! encodings reads a few percent of them instead of all (docs/benchmarks.md, "Gallery at a
//! million", has the measurements behind every number here).
//!
//! An inverted-file index grown online. Each cell is a contiguous block of full `f32` rows with
//! the running mean of its rows as centroid. A new encoding goes to the cell with the nearest
//! centroid; a cell that outgrows `max_cell_rows` is split in two by 2-means over its own rows, so
//! the cells follow the gallery as it grows without a global retraining (which would move every
//! row and hold the lock for seconds). A search ranks the centroids, scans the `probe_cells`
//! nearest cells with exact distances, and reports the best user and the closest *other* user
//! among those rows. Below `exact_below` encodings it scans every cell: small galleries and the
//! tests stay exact.

use std::hash::Hash;

use super::{Match, Nearest, Roster, for_each_distance, slot_number};
use crate::face::encoding::{ENCODING_LEN, Encoding, squared_distance};

/// How the index groups and searches; [`CellParams::default`] is what the app uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellParams {
    /// A cell with more rows than this is split in two.
    pub(crate) max_cell_rows: usize,
    /// Cells scanned per search once the gallery is past `exact_below`.
    pub probe_cells: usize,
    /// Up to this many encodings every search scans every row.
    pub(crate) exact_below: usize,
}

impl Default for CellParams {
    fn default() -> Self {
        Self {
            max_cell_rows: 1024,
            probe_cells: 64,
            exact_below: 32_768,
        }
    }
}

/// Rows of nearby encodings, stored back to back like the exact scan's.
#[derive(Debug, Clone)]
struct Cell {
    rows: Vec<f32>,
    owners: Vec<u32>,
    /// Sum of the rows, per dimension; f64 so that adding and removing rows does not drift.
    sum: Vec<f64>,
    /// Rows beyond which the cell is split (raised when its rows cannot be told apart).
    split_above: usize,
}

impl Cell {
    fn with_capacity(rows: usize, split_above: usize) -> Self {
        Self {
            rows: Vec::with_capacity(rows * ENCODING_LEN),
            owners: Vec::with_capacity(rows),
            sum: vec![0.0; ENCODING_LEN],
            split_above,
        }
    }

    fn len(&self) -> usize {
        self.owners.len()
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.rows[i * ENCODING_LEN..(i + 1) * ENCODING_LEN]
    }

    fn push(&mut self, row: &[f32], owner: u32) {
        self.rows.extend_from_slice(row);
        self.owners.push(owner);
        for (s, &v) in self.sum.iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }

    /// Removes row `i` by moving the last row into its place.
    fn swap_remove(&mut self, i: usize) {
        let row = &self.rows[i * ENCODING_LEN..(i + 1) * ENCODING_LEN];
        for (s, &v) in self.sum.iter_mut().zip(row) {
            *s -= f64::from(v);
        }
        let last = self.len() - 1;
        if i != last {
            self.rows
                .copy_within(last * ENCODING_LEN..(last + 1) * ENCODING_LEN, i * ENCODING_LEN);
        }
        self.rows.truncate(last * ENCODING_LEN);
        self.owners.swap_remove(i);
    }

    fn mean_into(&self, centroid: &mut [f32]) {
        let n = self.len().max(1) as f64;
        for (c, s) in centroid.iter_mut().zip(&self.sum) {
            *c = (*s / n) as f32;
        }
    }
}

/// Users and their encodings (one or more each), searchable by distance. Not exact past
/// [`CellParams::exact_below`] encodings: the closest user can be missed when their rows sit
/// in cells the search did not probe (measured: docs/benchmarks.md).
#[derive(Debug, Clone)]
pub struct EncodingIndex<Id> {
    params: CellParams,
    cells: Vec<Cell>,
    /// Each cell's centroid, `ENCODING_LEN` numbers per cell in cell order: the first step of a
    /// search reads them all, so they sit together.
    centroids: Vec<f32>,
    roster: Roster<Id>,
    /// Slot → every cell that holds that user's rows. Entries may be stale (a cell the rows
    /// left in a split, or a number since reused or gone): readers check the owners anyway.
    user_cells: Vec<Vec<u32>>,
    row_count: usize,
}

impl<Id> Default for EncodingIndex<Id> {
    fn default() -> Self {
        Self::with_params(CellParams::default())
    }
}

impl<Id> EncodingIndex<Id> {
    pub fn with_params(params: CellParams) -> Self {
        Self {
            params: CellParams {
                max_cell_rows: params.max_cell_rows.max(2),
                probe_cells: params.probe_cells.max(1),
                exact_below: params.exact_below,
            },
            cells: Vec::new(),
            centroids: Vec::new(),
            roster: Roster::default(),
            user_cells: Vec::new(),
            row_count: 0,
        }
    }

    pub fn params(&self) -> CellParams {
        self.params
    }

    /// Changes how many cells a search probes (the grouping stays).
    pub fn set_probe_cells(&mut self, probe_cells: usize) {
        self.params.probe_cells = probe_cells.max(1);
    }

    /// Bytes the index holds on the heap (capacities, not lengths; the user ids' own heap data
    /// and the id map's buckets are left out).
    pub fn heap_bytes(&self) -> usize {
        let cells: usize = self
            .cells
            .iter()
            .map(|c| c.rows.capacity() * 4 + c.owners.capacity() * 4 + c.sum.capacity() * 8)
            .sum();
        let lists: usize = self.user_cells.iter().map(|l| l.capacity() * 4).sum();
        cells
            + self.cells.capacity() * std::mem::size_of::<Cell>()
            + self.centroids.capacity() * 4
            + self.roster.users.capacity() * std::mem::size_of::<Id>()
            + self.user_cells.capacity() * std::mem::size_of::<Vec<u32>>()
            + lists
    }

    /// Number of cells, for the benches.
    pub fn cell_count(&self) -> usize {
        self.cells.len()
    }
}

impl<Id: Clone + Eq + Hash> EncodingIndex<Id> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds encodings for `id`; a user already present keeps the old ones too.
    pub fn add(&mut self, id: Id, encodings: &[Encoding]) {
        if encodings.is_empty() {
            return;
        }
        let (slot, new) = self.roster.enrol(id);
        if new {
            self.user_cells.push(Vec::new());
        }
        for encoding in encodings {
            self.insert_row(&encoding.0, slot);
        }
    }

    fn insert_row(&mut self, row: &[f32; ENCODING_LEN], slot: u32) {
        let cell = match self.nearest_cell(row) {
            Some(cell) => cell,
            None => {
                self.new_cell();
                0
            }
        };
        self.cells[cell].push(row, slot);
        self.refresh_centroid(cell);
        self.note_user_cell(slot, cell);
        self.row_count += 1;
        if self.cells[cell].len() > self.cells[cell].split_above {
            self.split(cell);
        }
    }

    /// Appends an empty cell with room for a full one, so cells do not grow by doubling (which
    /// would leave up to half of the gallery's memory unused).
    fn new_cell(&mut self) -> usize {
        let rows = self.params.max_cell_rows + 1;
        self.cells
            .push(Cell::with_capacity(rows, self.params.max_cell_rows));
        self.centroids.extend_from_slice(&[0.0; ENCODING_LEN]);
        self.cells.len() - 1
    }

    fn refresh_centroid(&mut self, cell: usize) {
        let centroid = &mut self.centroids[cell * ENCODING_LEN..(cell + 1) * ENCODING_LEN];
        self.cells[cell].mean_into(centroid);
    }

    fn note_user_cell(&mut self, slot: u32, cell: usize) {
        let cell = slot_number(cell);
        let cells = &mut self.user_cells[slot as usize];
        if !cells.contains(&cell) {
            cells.push(cell);
        }
    }

    fn centroid(&self, cell: usize) -> &[f32; ENCODING_LEN] {
        as_row(&self.centroids[cell * ENCODING_LEN..(cell + 1) * ENCODING_LEN])
    }

    fn nearest_cell(&self, row: &[f32; ENCODING_LEN]) -> Option<usize> {
        let mut nearest = None;
        let mut least = f32::INFINITY;
        for_each_distance(&self.centroids, row, |cell, distance| {
            if distance < least {
                (nearest, least) = (Some(cell), distance);
            }
        });
        nearest
    }

    /// Splits a full cell in two with 2-means over its rows. Seeds: the row farthest from the
    /// centroid and the row farthest from that one (deterministic, and far apart).
    fn split(&mut self, cell: usize) {
        const ROUNDS: usize = 8;
        let old = &self.cells[cell];
        let n = old.len();
        let farthest_from = |point: &[f32; ENCODING_LEN]| {
            (0..n)
                .map(|i| (i, squared_distance(as_row(old.row(i)), point)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(0, |(i, _)| i)
        };
        let a = farthest_from(self.centroid(cell));
        let b = farthest_from(as_row(old.row(a)));
        let mut centres = [*as_row(old.row(a)), *as_row(old.row(b))];
        let mut to_b = vec![false; n];
        for round in 0..ROUNDS {
            let mut changed = false;
            for (i, side) in to_b.iter_mut().enumerate() {
                let row = as_row(old.row(i));
                let b = squared_distance(row, &centres[1]) < squared_distance(row, &centres[0]);
                changed |= b != *side;
                *side = b;
            }
            if !changed && round > 0 {
                break;
            }
            let mut sums = [[0.0f64; ENCODING_LEN]; 2];
            let mut counts = [0usize; 2];
            for (i, &side) in to_b.iter().enumerate() {
                let side = usize::from(side);
                counts[side] += 1;
                for (s, &v) in sums[side].iter_mut().zip(old.row(i)) {
                    *s += f64::from(v);
                }
            }
            for side in 0..2 {
                if counts[side] > 0 {
                    for (c, s) in centres[side].iter_mut().zip(&sums[side]) {
                        *c = (*s / counts[side] as f64) as f32;
                    }
                }
            }
        }
        let moving = to_b.iter().filter(|&&b| b).count();
        if moving == 0 || moving == n {
            // Rows that 2-means cannot separate (copies of one encoding): let the cell grow.
            self.cells[cell].split_above = n * 2;
            return;
        }
        let new = self.new_cell();
        // Walk backwards so swap_remove only brings in rows already decided.
        for i in (0..n).rev() {
            if to_b[i] {
                let (row, owner) = (*as_row(self.cells[cell].row(i)), self.cells[cell].owners[i]);
                self.cells[new].push(&row, owner);
                self.cells[cell].swap_remove(i);
                self.note_user_cell(owner, new);
            }
        }
        self.refresh_centroid(cell);
        self.refresh_centroid(new);
    }

    /// Removes a user and all their encodings; `false` when the id was not there.
    pub(crate) fn remove(&mut self, id: &Id) -> bool {
        let Some((slot, moved)) = self.roster.remove(id) else {
            return false;
        };
        let mut cells = std::mem::take(&mut self.user_cells[slot as usize]);
        // Highest first: dropping an empty cell moves the last cell into its place, which must
        // not be one still to visit.
        cells.sort_unstable_by(|a, b| b.cmp(a));
        cells.dedup();
        for cell in cells {
            let cell = cell as usize;
            if cell >= self.cells.len() {
                continue; // a stale entry (see `user_cells`)
            }
            let mut i = 0;
            while i < self.cells[cell].len() {
                if self.cells[cell].owners[i] == slot {
                    self.cells[cell].swap_remove(i);
                    self.row_count -= 1;
                } else {
                    i += 1;
                }
            }
            if self.cells[cell].len() == 0 {
                self.drop_cell(cell);
            } else {
                self.refresh_centroid(cell);
            }
        }
        // The last user moved into the freed slot: renumber their rows.
        self.user_cells.swap_remove(slot as usize);
        if let Some(last) = moved {
            for &cell in &self.user_cells[slot as usize] {
                let Some(cell) = self.cells.get_mut(cell as usize) else {
                    continue;
                };
                for owner in cell.owners.iter_mut() {
                    if *owner == last {
                        *owner = slot;
                    }
                }
            }
        }
        true
    }

    /// Drops an empty cell; the last cell takes its number.
    fn drop_cell(&mut self, cell: usize) {
        let last = self.cells.len() - 1;
        self.cells.swap_remove(cell);
        self.centroids.copy_within(
            last * ENCODING_LEN..(last + 1) * ENCODING_LEN,
            cell * ENCODING_LEN,
        );
        self.centroids.truncate(last * ENCODING_LEN);
        if cell != last {
            let (from, to) = (slot_number(last), slot_number(cell));
            let mut owners: Vec<u32> = self.cells[cell].owners.clone();
            owners.sort_unstable();
            owners.dedup();
            for owner in owners {
                for c in self.user_cells[owner as usize].iter_mut() {
                    if *c == from {
                        *c = to;
                    }
                }
            }
        }
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.roster.len()
    }

    pub fn is_empty(&self) -> bool {
        self.roster.len() == 0
    }

    /// Number of encodings, all users together.
    pub fn encoding_count(&self) -> usize {
        self.row_count
    }

    pub fn contains(&self, id: &Id) -> bool {
        self.roster.contains(id)
    }

    /// The user with the closest encoding among the probed cells, and the distance to the closest
    /// other user among them. `None` when the index is empty. Applies no threshold: see
    /// [`Match::within`].
    pub fn best_match(&self, query: &Encoding) -> Option<Match<Id>> {
        let mut nearest = Nearest::default();
        let probe = self.params.probe_cells;
        if self.row_count <= self.params.exact_below || self.cells.len() <= probe {
            for cell in &self.cells {
                nearest.scan(&cell.rows, &cell.owners, &query.0);
            }
        } else {
            let mut ranked: Vec<(f32, u32)> = Vec::with_capacity(self.cells.len());
            for_each_distance(&self.centroids, &query.0, |cell, distance| {
                ranked.push((distance, slot_number(cell)));
            });
            ranked.select_nth_unstable_by(probe - 1, |a, b| a.0.total_cmp(&b.0));
            for &(_, cell) in &ranked[..probe] {
                let cell = &self.cells[cell as usize];
                nearest.scan(&cell.rows, &cell.owners, &query.0);
            }
        }
        nearest.into_match(&self.roster.users)
    }
}

fn as_row(values: &[f32]) -> &[f32; ENCODING_LEN] {
    // Every caller slices exactly ENCODING_LEN values.
    values.try_into().unwrap_or(&[0.0; ENCODING_LEN])
}
