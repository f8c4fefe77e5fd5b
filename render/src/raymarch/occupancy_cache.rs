//! The ray marcher's occupancy grids, kept per volume content ([`VolumeTexture::content_id`]).

use super::occupancy::{OccupancyBuilder, VolumeOccupancy};
use crate::volume_texture::VolumeTexture;

/// Most grids kept: the least recently used one is dropped to make room, so grids of textures
/// that are gone or show another frame now do not pile up (a frame needs at most two).
const CAPACITY: usize = 8;

/// Occupancy grids by content id, least recently used dropped first.
pub(crate) struct OccupancyCache {
    builder: OccupancyBuilder,
    grids: Vec<Cached>,
    /// Counts lookups; a grid's `used` is the count at its last lookup.
    clock: u64,
}

struct Cached {
    content_id: u64,
    used: u64,
    grid: VolumeOccupancy,
}

impl OccupancyCache {
    pub(crate) fn new(device: &wgpu::Device) -> OccupancyCache {
        OccupancyCache {
            builder: OccupancyBuilder::new(device),
            grids: Vec::new(),
            clock: 0,
        }
    }

    /// The grid of `volume`'s current contents, built and submitted when missing.
    pub(crate) fn build(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        volume: &VolumeTexture,
    ) -> &VolumeOccupancy {
        self.clock += 1;
        let index = match self.position(volume) {
            Some(index) => index,
            None => {
                if self.grids.len() >= CAPACITY
                    && let Some(oldest) = (0..self.grids.len()).min_by_key(|&i| self.grids[i].used)
                {
                    self.grids.swap_remove(oldest);
                }
                self.grids.push(Cached {
                    content_id: volume.content_id(),
                    used: 0,
                    grid: self.builder.build(device, queue, volume),
                });
                self.grids.len() - 1
            }
        };
        self.grids[index].used = self.clock;
        &self.grids[index].grid
    }

    /// The grid of `volume`'s current contents, if built.
    pub(crate) fn get(&self, volume: &VolumeTexture) -> Option<&VolumeOccupancy> {
        self.position(volume).map(|index| &self.grids[index].grid)
    }

    fn position(&self, volume: &VolumeTexture) -> Option<usize> {
        self.grids.iter().position(|c| c.content_id == volume.content_id())
    }
}

#[cfg(test)]
mod tests {
    use cortexlens_data::Volume;
    use glam::DMat4;

    use super::*;
    use crate::testing::shared_context;

    #[test]
    fn bounded_and_keyed_by_content() {
        let ctx = shared_context();
        let (device, queue) = (&ctx.device, &ctx.queue);
        let volume = Volume::from_f32("v", [4, 4, 4, 2], DMat4::IDENTITY, (0..128).map(|v| v as f32).collect());
        let mut texture = VolumeTexture::upload(device, queue, &volume, 0);
        let mut cache = OccupancyCache::new(device);
        cache.build(device, queue, &texture);
        let first = texture.content_id();
        // A new frame is new content: a new grid, the old one kept until it is the oldest.
        for frame in 1..=2 * CAPACITY {
            texture.set_frame(queue, &volume, frame % 2);
            cache.build(device, queue, &texture);
            assert!(cache.get(&texture).is_some());
            assert!(cache.grids.len() <= CAPACITY);
        }
        assert!(cache.grids.iter().all(|c| c.content_id != first));
    }
}
