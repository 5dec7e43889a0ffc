//! Fewer frames for an animation (a plan's `max_frames`): N frames evenly
//! spaced over the original, each shown for the time of the frames it
//! stands for, so the animation keeps its length.

use pixgate_codec::Animation;

pub fn keep(anim: Animation, n: u32) -> Animation {
    let total = anim.frames.len();
    let n = (n.max(1) as usize).min(total);
    if n == total {
        return anim;
    }
    // Frame k stands for the originals from start(k) to start(k+1).
    let start = |k: usize| k * total / n;
    let delays = (0..n)
        .map(|k| anim.delays_ms[start(k)..start(k + 1)].iter().sum())
        .collect();
    let frames = anim
        .frames
        .into_iter()
        .enumerate()
        .filter(|(i, _)| (0..n).any(|k| start(k) == *i))
        .map(|(_, f)| f)
        .collect();
    Animation {
        frames,
        delays_ms: delays,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pixgate_codec::Frame;

    #[test]
    fn keeps_n_evenly_and_the_length() {
        let frames = (0..10).map(|i| Frame::filled(1, 1, &[i, 0, 0])).collect();
        let anim = Animation {
            frames,
            delays_ms: vec![100; 10],
        };
        let kept = keep(anim, 4);
        let firsts: Vec<u8> = kept.frames.iter().map(|f| f.data[0]).collect();
        assert_eq!(firsts, vec![0, 2, 5, 7]);
        assert_eq!(kept.delays_ms.iter().sum::<u32>(), 1000);
        assert_eq!(kept.delays_ms, vec![200, 300, 200, 300]);
    }
}
